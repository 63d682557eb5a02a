/**
 * Webhook signatures: the standardwebhooks verifier accepts ours, with either secret during a
 * rotation, and rejects a tampered body or an old timestamp.
 */
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  checkWebhookSecret,
  newWebhookSecret,
  signWebhook,
  webhookBody,
} from '../../src/webhooks/signing.js';

const OLD = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
const NEW = `whsec_${Buffer.alloc(32, 2).toString('base64')}`;
const OTHER = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;

describe('signWebhook', () => {
  it('the standardwebhooks verifier accepts it and returns the payload', () => {
    const now = Date.now();
    const body = webhookBody('message.delivered', { id: 'm1', status: 'delivered' }, now);
    const headers = signWebhook({ id: 'evt_1', now, body, secrets: [NEW] });
    expect(headers['webhook-id']).toBe('evt_1');
    expect(headers['webhook-timestamp']).toBe(String(Math.floor(now / 1000)));
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(NEW).verify(body, { ...headers })).toEqual({
      type: 'message.delivered',
      timestamp: new Date(now).toISOString(),
      data: { id: 'm1', status: 'delivered' },
    });
  });

  it('rotation: one v1 signature per secret; a receiver holding either one accepts, another rejects', () => {
    const now = Date.now();
    const body = '{"a":1}';
    const headers = signWebhook({ id: 'evt_2', now, body, secrets: [NEW, OLD] });
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(NEW).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(OLD).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(OTHER).verify(body, { ...headers })).toThrow(/signature/i);
  });

  it('rejects a tampered body, a changed id and an old timestamp', () => {
    const now = Date.now();
    const body = '{"amount":1}';
    const headers = signWebhook({ id: 'evt_3', now, body, secrets: [NEW] });
    expect(() => new Webhook(NEW).verify('{"amount":2}', { ...headers })).toThrow(/signature/i);
    expect(() => new Webhook(NEW).verify(body, { ...headers, 'webhook-id': 'evt_4' })).toThrow(/signature/i);
    const old = signWebhook({ id: 'evt_3', now: now - 10 * 60_000, body, secrets: [NEW] });
    expect(() => new Webhook(NEW).verify(body, { ...old })).toThrow(/timestamp/i);
  });

  it("the id is stable across retries, the timestamp is the attempt's", () => {
    const body = '{}';
    const a = signWebhook({ id: 'evt_5', now: 1_700_000_000_000, body, secrets: [NEW] });
    const b = signWebhook({ id: 'evt_5', now: 1_700_000_300_999, body, secrets: [NEW] });
    expect(a['webhook-id']).toBe(b['webhook-id']);
    expect(b['webhook-timestamp']).toBe('1700000300');
    expect(a['webhook-signature']).not.toBe(b['webhook-signature']);
  });

  it('gives the same headers as the standardwebhooks package, for any id, time, body and secret', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.uint8Array({ minLength: 24, maxLength: 64 }),
        fc.uint8Array({ minLength: 24, maxLength: 64 }),
        (id, now, body, a, b) => {
          const secrets = [
            `whsec_${Buffer.from(a).toString('base64')}`,
            `whsec_${Buffer.from(b).toString('base64')}`,
          ];
          const timestamp = new Date(Math.floor(now / 1000) * 1000);
          const theirs = secrets.map((secret) => new Webhook(secret).sign(id, timestamp, body)).join(' ');
          const ours = signWebhook({ id, now, body, secrets });
          expect(ours['webhook-signature']).toBe(theirs);
          expect(ours['webhook-timestamp']).toBe(String(timestamp.getTime() / 1000));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses to sign with a bad secret, every time (a checked key is remembered, a bad one never)', () => {
    for (let i = 0; i < 2; i++) {
      expect(() => signWebhook({ id: 'x', now: 0, body: '', secrets: [NEW, 'whsec_***'] })).toThrow(
        expect.objectContaining({
          code: 'SMPP_ERR_WEBHOOK_SECRET',
          message: expect.stringContaining('secrets[1]'),
        }),
      );
    }
  });

  it('refuses bad secrets without echoing them, and an empty secret list', () => {
    for (const bad of ['plain', 'whsec_', 'whsec_***', `whsec_${Buffer.alloc(8).toString('base64')}`]) {
      expect(() => checkWebhookSecret(bad)).toThrow(
        expect.objectContaining({ code: 'SMPP_ERR_WEBHOOK_SECRET' }),
      );
      try {
        checkWebhookSecret(bad);
      } catch (err) {
        if (bad.length > 6) expect((err as Error).message).not.toContain(bad);
      }
    }
    expect(() => signWebhook({ id: 'x', now: 0, body: '', secrets: [] })).toThrow(/no active/);
  });

  it('newWebhookSecret makes a valid 32-byte secret', () => {
    const s = newWebhookSecret();
    expect(() => checkWebhookSecret(s)).not.toThrow();
    expect(Buffer.from(s.slice(6), 'base64')).toHaveLength(32);
    expect(newWebhookSecret()).not.toBe(s);
  });
});
