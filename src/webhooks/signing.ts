/**
 * Signs webhook requests the Standard Webhooks way (receivers verify with the `standardwebhooks` npm
 * package, the reference implementation, or any port of it):
 *
 *   webhook-id          the event's id, the same on every retry (receivers deduplicate on it)
 *   webhook-timestamp   unix seconds of this attempt (receivers refuse ones older than ~5 min)
 *   webhook-signature   `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one per active secret,
 *                       space-separated: during a key rotation the old and the new secret both sign, and
 *                       a receiver holding either accepts.
 *
 * Secrets are `whsec_` + base64 of 24–64 random bytes (the spec's advice). The body is signed as the
 * exact bytes sent: serialize once, sign that string, send that string.
 *
 * The HMAC is Node's (OpenSSL), not the package's `sign`: that one hashes in JavaScript
 * (fast-sha256) and decodes the secret again on every call — ~8 % of serve's CPU per MO in
 * bench/inbound. test/webhooks/signing.test.ts checks, for arbitrary ids, times, bodies and
 * secrets, that both give the same header, and verifies ours with the package.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { ErrorCode, SmppError } from '../errors.js';

export const SECRET_PREFIX = 'whsec_';
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;

export interface WebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

export interface SignInput {
  /** The event id, stable across retries. */
  readonly id: string;
  /** Epoch ms of this attempt. */
  readonly now: number;
  /** The exact body sent. */
  readonly body: string;
  /** The active secrets, newest first; at least one. */
  readonly secrets: readonly string[];
}

function keyBytes(secret: string): number {
  const b64 = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) return -1;
  return Buffer.from(b64, 'base64').length;
}

/**
 * Throws SMPP_ERR_WEBHOOK_SECRET unless the secret is `whsec_` + base64 of 24–64 bytes. The message
 * never contains the secret.
 */
export function checkWebhookSecret(secret: string, path = 'secret'): void {
  if (typeof secret !== 'string' || !secret.startsWith(SECRET_PREFIX)) {
    throw new SmppError(ErrorCode.WebhookSecret, `${path} must start with ${SECRET_PREFIX}`);
  }
  const n = keyBytes(secret);
  if (n < MIN_KEY_BYTES || n > MAX_KEY_BYTES) {
    throw new SmppError(
      ErrorCode.WebhookSecret,
      `${path} must be ${SECRET_PREFIX} followed by base64 of ${MIN_KEY_BYTES}–${MAX_KEY_BYTES} bytes`,
    );
  }
}

/** A fresh secret: `whsec_` + base64 of 32 random bytes. */
export function newWebhookSecret(random: (n: number) => Buffer = randomBytes): string {
  return SECRET_PREFIX + random(32).toString('base64');
}

/** Each secret's key bytes, checked once (a handful of secrets per endpoint; bounded all the same). */
const keys = new Map<string, Buffer>();
const MAX_CACHED_KEYS = 1_024;

function keyOf(secret: string, path: string): Buffer {
  let key = keys.get(secret);
  if (key === undefined) {
    checkWebhookSecret(secret, path);
    key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
    if (keys.size >= MAX_CACHED_KEYS) keys.clear();
    keys.set(secret, key);
  }
  return key;
}

/** The three Standard Webhooks headers for one attempt. Throws SMPP_ERR_WEBHOOK_SECRET for a bad secret. */
export function signWebhook(input: SignInput): WebhookHeaders {
  if (input.secrets.length === 0) throw new SmppError(ErrorCode.WebhookSecret, 'no active webhook secret');
  const seconds = String(Math.floor(input.now / 1000));
  const signed = `${input.id}.${seconds}.${input.body}`;
  const signatures = input.secrets.map(
    (secret, i) =>
      `v1,${createHmac('sha256', keyOf(secret, `secrets[${i}]`))
        .update(signed, 'utf8')
        .digest('base64')}`,
  );
  return {
    'webhook-id': input.id,
    'webhook-timestamp': seconds,
    'webhook-signature': signatures.join(' '),
  };
}

/** The body of an event, `{ type, timestamp, data }` (Standard Webhooks payload shape), serialized once. */
export function webhookBody(type: string, data: unknown, now: number): string {
  return JSON.stringify({ type, timestamp: new Date(now).toISOString(), data });
}
