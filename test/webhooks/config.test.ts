import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { parseConfigText } from '../../src/config/load-config.js';
import { DEFAULT_WEBHOOKS } from '../../src/webhooks/config.js';
import { newWebhookSecret } from '../../src/webhooks/signing.js';

const SECRET = newWebhookSecret();
const OLD_SECRET = newWebhookSecret();
const BIND = 'binds:\n  - { id: a, host: smsc.example, port: 2775, systemId: acme, password: pw }\n';

const parse = (webhooks: string) =>
  parseConfigText(`${BIND}webhooks:\n${webhooks}`, { env: {}, baseDir: '.' });

function issues(webhooks: string): { path: string; message: string }[] {
  try {
    parse(webhooks);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues.map(({ path, message }) => ({ path, message }));
  }
  throw new Error('expected a ConfigError, but the config loaded');
}

describe('config webhooks', () => {
  it('resolves endpoints with their defaults, a secret list for rotation, and the section defaults', () => {
    const config = parse(`
  endpoints:
    - id: crm
      url: https://crm.example.com/hooks
      secret: [${SECRET}, ${OLD_SECRET}]
      events: [message.received, message.delivered]
      routes: [marketing]
      headers: { x-tenant: acme }
    - { id: audit, url: "http://10.0.0.5/h", secret: ${SECRET}, events: [bind.health_changed], concurrency: 2 }
  allowCallbackUrl: false
`);
    expect(config.webhooks).toMatchObject({
      allowCallbackUrl: false,
      allowPrivateCallbackUrls: false,
      timeoutMs: 15_000,
      callbackSecrets: [],
      endpoints: [
        {
          id: 'crm',
          secrets: [SECRET, OLD_SECRET],
          events: ['message.received', 'message.delivered'],
          routes: ['marketing'],
          headers: { 'x-tenant': 'acme' },
          concurrency: DEFAULT_WEBHOOKS.concurrency,
        },
        { id: 'audit', secrets: [SECRET], routes: null, concurrency: 2 },
      ],
    });
    expect(parseConfigText(BIND, { env: {}, baseDir: '.' }).webhooks).toEqual(DEFAULT_WEBHOOKS);
  });

  it('refuses a bad secret, an unknown event type, a duplicate id, a bad URL and a reserved header, each by path', () => {
    const found = issues(`
  endpoints:
    - { id: crm, url: "https://crm.example.com/h", secret: not-a-secret, events: [message.delivered] }
    - { id: crm, url: "ftp://x.example/h", secret: [${SECRET}, whsec_AAAA], events: [message.sent] }
    - { id: c, url: "https://u:p@x.example/h", secret: ${SECRET}, events: [message.received], headers: { Webhook-Signature: x } }
  callbackSecret: whsec_short
`);
    const paths = found.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'webhooks.endpoints[0].secret',
        'webhooks.endpoints[1].id',
        'webhooks.endpoints[1].url',
        'webhooks.endpoints[1].secret[1]',
        'webhooks.endpoints[1].events[0]',
        'webhooks.endpoints[2].url',
        'webhooks.endpoints[2].headers["Webhook-Signature"]',
        'webhooks.callbackSecret',
      ]),
    );
    expect(found.find((i) => i.path === 'webhooks.endpoints[1].id')?.message).toMatch(/duplicate id "crm"/);
    // The secret's value never appears in a message.
    expect(JSON.stringify(found)).not.toContain('not-a-secret');
  });
});
