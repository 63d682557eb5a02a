/**
 * Store URLs: `postgres://user:password@host:port/database?…` selects the PostgreSQL store.
 * The password is a secret: every copy of a URL that is logged or returned goes through
 * `redactUrlPassword` first.
 */

export const POSTGRES_URL_PATTERN = '^postgres(ql)?://';

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/**
 * The password of a `scheme://user:password@host…` URL (and a `password=` query parameter)
 * replaced by `[redacted]`; other text comes back as it was.
 */
export function redactUrlPassword(text: string, replacement = '[redacted]'): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return text;
  return text
    .replace(
      /^([a-z][a-z0-9+.-]*:\/\/[^/?#@:]*):([^/?#]*)@/i,
      (_all, user: string) => `${user}:${replacement}@`,
    )
    .replace(/([?&]password=)[^&#]*/gi, (_all, key: string) => `${key}${replacement}`);
}
