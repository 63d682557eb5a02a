/**
 * Fastify gives every request a child logger bound to its request id. Building a pino child costs
 * more than answering a health probe, so each request gets this stand-in instead: it creates the
 * child on the first line actually written, and probes that log nothing never pay for it.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';

type LogArgs = unknown[];

interface LevelAware {
  isLevelEnabled?: (level: string) => boolean;
}

export class LazyChildLogger {
  private real: FastifyBaseLogger | null = null;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  private get target(): FastifyBaseLogger {
    if (this.real === null) this.real = this.parent.child(this.bindings, this.options);
    return this.real;
  }

  get level(): string {
    return this.real?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.target.level = level;
  }

  isLevelEnabled(level: string): boolean {
    const source = (this.real ?? this.parent) as LevelAware;
    return source.isLevelEnabled?.(level) ?? true;
  }

  trace(...args: LogArgs): void {
    if (this.real === null && !this.isLevelEnabled('trace')) return;
    const target = this.target;
    Reflect.apply(target.trace, target, args);
  }

  debug(...args: LogArgs): void {
    if (this.real === null && !this.isLevelEnabled('debug')) return;
    const target = this.target;
    Reflect.apply(target.debug, target, args);
  }

  info(...args: LogArgs): void {
    if (this.real === null && !this.isLevelEnabled('info')) return;
    const target = this.target;
    Reflect.apply(target.info, target, args);
  }

  warn(...args: LogArgs): void {
    if (this.real === null && !this.isLevelEnabled('warn')) return;
    const target = this.target;
    Reflect.apply(target.warn, target, args);
  }

  error(...args: LogArgs): void {
    if (this.real === null && !this.isLevelEnabled('error')) return;
    const target = this.target;
    Reflect.apply(target.error, target, args);
  }

  fatal(...args: LogArgs): void {
    if (this.real === null && !this.isLevelEnabled('fatal')) return;
    const target = this.target;
    Reflect.apply(target.fatal, target, args);
  }

  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.target.child(bindings, options);
  }
}

/** fastify's childLoggerFactory: a LazyChildLogger per request. */
export function lazyChildLoggerFactory(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  return new LazyChildLogger(logger, bindings, options) as unknown as FastifyBaseLogger;
}

/** Query keys whose values never reach a log: a key ending in one of these words (any case). */
const SENSITIVE_QUERY_KEY =
  /(?:^|[-_.])?(?:access[-_]?token|token|api[-_]?key|apikey|key|password|passwd|pwd|secret|signature|sig|auth|authorization|credentials?|session)$/i;

/** `?name=value` / `&name=value` pairs, inside a URL or anywhere in a serialized log line. */
const QUERY_PAIR = /([?&;])([^=&;?#"\s\\]{1,128})=([^&;#"\s\\]*)/g;

export const REDACTED = '[redacted]';

/** `url` with the value of every sensitive query parameter replaced by [redacted]. */
export function redactUrl(url: string): string {
  if (!url.includes('=')) return url;
  return url.replace(QUERY_PAIR, (pair, sep: string, key: string) => {
    let name = key;
    try {
      name = decodeURIComponent(key);
    } catch {
      // A malformed escape: judge the raw key.
    }
    return SENSITIVE_QUERY_KEY.test(name) ? `${sep}${key}=${REDACTED}` : pair;
  });
}

/**
 * A function that removes secrets from a serialized log line: sensitive query values (in any
 * field: url, msg, an error message) and every one of `secrets` (the API tokens) wherever it
 * appears. Lines without '=' or a secret pass through untouched at the cost of a scan.
 */
export function lineRedactor(secrets: readonly string[]): (line: string) => string {
  // Short values would redact innocent text; tokens are long in practice (the schema asks for token68).
  const values = [...new Set(secrets)].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  return (line) => {
    let out = line.includes('=') ? redactUrl(line) : line;
    for (const value of values) if (out.includes(value)) out = out.replaceAll(value, REDACTED);
    return out;
  };
}
