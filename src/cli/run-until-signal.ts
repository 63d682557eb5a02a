/**
 * Keeps a long-running command (serve, simulator) up until SIGTERM or SIGINT, then runs its
 * graceful shutdown and resolves with the exit code: 0 when the shutdown completed, 1 when it
 * failed. A second signal while shutting down exits at once; so does a shutdown that outlives
 * `deadlineMs`. Once the shutdown is done, a handle something forgot to release cannot keep the
 * process alive for more than a moment.
 */
import type { Logger } from '../logger.js';
import { ExitCode } from './args.js';

/** How long the process may linger after a completed shutdown before it exits anyway. */
const LINGER_MS = 1_000;

export interface RunUntilSignalOptions {
  /** Exit 1 when the shutdown has not finished this long after the signal (default: never). */
  deadlineMs?: number;
  /**
   * Shut down as on SIGTERM when the parent process goes away (we are re-parented). For a
   * service started by a wrapper such as `npm start`, whose shell may die of the SIGTERM npm
   * forwards without passing it on. Checked once a second.
   */
  exitWithParent?: boolean;
}

/** How often the parent process is checked (exitWithParent). */
const PARENT_CHECK_MS = 1_000;

export function runUntilSignal(
  logger: Pick<Logger, 'info' | 'warn' | 'error'>,
  shutdown: () => Promise<void>,
  options: RunUntilSignalOptions = {},
): Promise<number> {
  return new Promise<number>((resolve) => {
    let signals = 0;
    let parentWatch: NodeJS.Timeout | undefined;
    const finish = (code: number): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      clearInterval(parentWatch);
      setTimeout(() => process.exit(code), LINGER_MS).unref();
      resolve(code);
    };
    const onSignal = (signal: NodeJS.Signals | 'parent exit'): void => {
      signals++;
      if (signals > 1) {
        logger.warn(`${signal} again: exiting at once`);
        process.exit(ExitCode.Failure);
      }
      clearInterval(parentWatch);
      logger.info(
        signal === 'parent exit'
          ? 'the parent process exited (e.g. npm stopped): shutting down'
          : `${signal} received: shutting down`,
      );
      if (options.deadlineMs !== undefined) {
        const deadlineMs = options.deadlineMs;
        setTimeout(() => {
          logger.error(`shutdown did not finish within ${deadlineMs} ms: exiting`);
          process.exit(ExitCode.Failure);
        }, deadlineMs).unref();
      }
      shutdown().then(
        () => finish(ExitCode.Ok),
        (error: unknown) => {
          logger.error({ err: (error as Error).message }, 'shutdown failed');
          finish(ExitCode.Failure);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    if (options.exitWithParent) {
      const parent = process.ppid;
      parentWatch = setInterval(() => {
        if (process.ppid !== parent) onSignal('parent exit');
      }, PARENT_CHECK_MS);
      parentWatch.unref();
    }
  });
}
