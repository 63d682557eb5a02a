/**
 * The pino logger of `serve`: JSON lines on stdout, with secrets kept out of every line. Known
 * secret fields are removed by path (pino `redact`); on top of that each serialized line passes
 * through lineRedactor, which removes sensitive query values (`?access_token=…`) and the
 * configured API token values wherever they appear (a URL, a message, an error).
 */
import pino from 'pino';
import { lineRedactor } from '../http/request-logger.js';

/** Paths pino removes from every log line: secrets never reach the logs. */
export const LOG_REDACT_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'binds[*].password',
  'config.binds[*].password',
  'tls.key',
  '*.tls.key',
  'auth.tokens',
  '*.auth.tokens',
  'req.headers.authorization',
  'headers.authorization',
];

export interface ServiceLoggerOptions {
  level: string;
  /** Values never written (the API tokens). */
  secrets?: readonly string[];
  /** Where lines go (default: stdout, synchronously, so nothing is lost at exit). */
  destination?: { write(line: string): unknown };
}

export function createServiceLogger(options: ServiceLoggerOptions): pino.Logger {
  const out = options.destination ?? pino.destination({ dest: 1, sync: true });
  const redact = lineRedactor(options.secrets ?? []);
  return pino(
    { level: options.level, redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' } },
    { write: (line: string) => out.write(redact(line)) },
  );
}
