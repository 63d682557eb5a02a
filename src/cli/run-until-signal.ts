/**
 * Keeps a long-running command (serve, simulator) up until SIGTERM or SIGINT, then runs its
 * graceful shutdown and resolves with the exit code: 0 when the shutdown completed, 1 when it
 * failed. A second signal while shutting down exits at once; so does a shutdown that outlives
 * `deadlineMs`. Once the shutdown is done, a handle something forgot to release cannot keep the
 * process alive for more than a moment.
 *
 * trapStopSignals() listens from the moment it is called, so a command installs it before it
 * starts anything: a signal that arrives while it is still starting is kept and acted on as soon
 * as the shutdown is known, instead of killing the process half-started.
 */
import type { Logger } from '../logger.js';
import { ExitCode } from './args.js';

/** How long the process may linger after a completed shutdown before it exits anyway. */
const LINGER_MS = 1_000;

/** How often the parent process is checked (exitWithParent). */
const PARENT_CHECK_MS = 1_000;

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

type StopCause = NodeJS.Signals | 'parent exit';

export interface StopSignals {
  /** Resolves with the exit code once a stop signal came and `shutdown` finished. */
  until(shutdown: () => Promise<void>): Promise<number>;
  /** Stops listening (a command that failed to start). */
  release(): void;
}

export function trapStopSignals(
  logger: Pick<Logger, 'info' | 'warn' | 'error'>,
  options: RunUntilSignalOptions = {},
): StopSignals {
  let signals = 0;
  let pending: StopCause | null = null;
  let run: ((cause: StopCause) => void) | null = null;
  let parentWatch: NodeJS.Timeout | undefined;

  const release = (): void => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    clearInterval(parentWatch);
  };
  const onSignal = (cause: StopCause): void => {
    signals++;
    if (signals > 1) {
      logger.warn(`${cause} again: exiting at once`);
      process.exit(ExitCode.Failure);
    }
    clearInterval(parentWatch);
    logger.info(
      cause === 'parent exit'
        ? 'the parent process exited (e.g. npm stopped): shutting down'
        : `${cause} received: shutting down`,
    );
    if (options.deadlineMs !== undefined) {
      const deadlineMs = options.deadlineMs;
      setTimeout(() => {
        logger.error(`shutdown did not finish within ${deadlineMs} ms: exiting`);
        process.exit(ExitCode.Failure);
      }, deadlineMs).unref();
    }
    if (run) run(cause);
    else pending = cause;
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

  return {
    release,
    until(shutdown) {
      return new Promise<number>((resolve) => {
        const finish = (code: number): void => {
          release();
          setTimeout(() => process.exit(code), LINGER_MS).unref();
          resolve(code);
        };
        run = () => {
          shutdown().then(
            () => finish(ExitCode.Ok),
            (error: unknown) => {
              logger.error({ err: (error as Error).message }, 'shutdown failed');
              finish(ExitCode.Failure);
            },
          );
        };
        if (pending !== null) run(pending);
      });
    },
  };
}

/** trapStopSignals() for a command that is already running. */
export function runUntilSignal(
  logger: Pick<Logger, 'info' | 'warn' | 'error'>,
  shutdown: () => Promise<void>,
  options: RunUntilSignalOptions = {},
): Promise<number> {
  return trapStopSignals(logger, options).until(shutdown);
}
