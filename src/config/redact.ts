/**
 * Copies of config values that are safe to log or return over HTTP: every password,
 * token, secret and private key is replaced by '[redacted]', and so is the password inside
 * a URL (`postgres://user:password@host/db`).
 */
import { redactUrlPassword } from '../store/postgres-url.js';

export const REDACTED = '[redacted]';

const SECRET_KEY =
  /^(password|passphrase|secret|tokens?|key)$|[a-z0-9](Password|Passphrase|Secret|Tokens?|Key)$/;

/** Whether a config key holds a secret: `password`, `tokens`, `key` (TLS private key), `apiKey`, ... */
export function isSecretKey(key: string | number): boolean {
  return typeof key === 'string' && SECRET_KEY.test(key);
}

/** A deep copy of `value` with the value of every secret key redacted (strings, numbers, lists of them). */
export function redactConfig<T>(value: T): T {
  return redactValue(value, false) as T;
}

function redactValue(value: unknown, secret: boolean): unknown {
  if (Array.isArray(value)) return value.map((item) => redactValue(item, secret));
  if (value !== null && typeof value === 'object') {
    if (Buffer.isBuffer(value)) return secret ? REDACTED : Buffer.from(value);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const copy = redactValue(item, secret || isSecretKey(key));
      Object.defineProperty(out, key, { value: copy, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  if (secret && (typeof value === 'string' || typeof value === 'number')) return REDACTED;
  // A URL carries its password inside (store.url: postgres://user:password@host/db).
  if (typeof value === 'string') return redactUrlPassword(value, REDACTED);
  return value;
}
