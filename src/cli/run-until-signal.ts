/**
 * Keeps a long-running command (serve, simulator) up until SIGTERM or SIGINT, then runs its
 * graceful shutdown and resolves with the exit code: 0 when the shutdown completed, 1 when it
 * failed. A second signal while shutting down exits at once.
 */
import type { Logger } from './logger.js';

export function runUntilSignal(
  logger: Pick<Logger, 'info' | 'warn' | 'error'>,
  shutdown: () => Promise<void>,
): Promise<number> {
  return new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      signals++;
      if (signals > 1) {
        logger.warn(`${signal} again: exiting at once`);
        process.exit(1);
      }
      logger.info(`${signal} received: shutting down`);
      shutdown().then(
        () => {
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
          resolve(0);
        },
        (error: unknown) => {
          logger.error({ err: (error as Error).message }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
