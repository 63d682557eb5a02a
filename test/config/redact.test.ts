import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { withBindDefaults } from '../../src/binds/bind-options.js';
import { parseConfigText } from '../../src/config/load-config.js';
import { isSecretKey, REDACTED, redactConfig } from '../../src/config/redact.js';

describe('redactConfig', () => {
  const text = `
auth: { tokens: [token-one, token-two] }
simulator: { enabled: true, accounts: [{ systemId: sim, password: simpass }] }
binds:
  - id: a
    host: smsc.example
    port: 2775
    systemId: acme
    password: bindpass
`;

  it('replaces every password and token of a loaded config, and keeps the rest', () => {
    const config = parseConfigText(text, { env: {}, baseDir: '.' });
    const redacted = redactConfig(config);
    const json = JSON.stringify(redacted);
    for (const secret of ['token-one', 'token-two', 'simpass', 'bindpass'])
      expect(json).not.toContain(secret);
    expect(redacted.auth.tokens).toEqual([REDACTED, REDACTED]);
    expect(redacted.binds[0]?.password).toBe(REDACTED);
    expect(redacted.binds[0]?.systemId).toBe('acme');
    expect(redacted.simulator.accounts?.[0]).toEqual({ systemId: 'sim', password: REDACTED });
    expect(redacted.http).toEqual(config.http);
  });

  it('does not modify the original', () => {
    const config = parseConfigText(text, { env: {}, baseDir: '.' });
    redactConfig(config);
    expect(config.binds[0]?.password).toBe('bindpass');
    expect(config.auth.tokens).toEqual(['token-one', 'token-two']);
  });

  it('redacts a bind on its own, including a TLS private key', () => {
    const bind = withBindDefaults({ id: 'a', host: 'h', port: 1, systemId: 's', password: 'p' });
    bind.tls = { enabled: true, rejectUnauthorized: true, key: '-----BEGIN PRIVATE KEY-----', cert: 'CERT' };
    const redacted = redactConfig(bind);
    expect(redacted.password).toBe(REDACTED);
    expect(redacted.tls).toEqual({ enabled: true, rejectUnauthorized: true, key: REDACTED, cert: 'CERT' });
  });

  it.each(['password', 'tokens', 'token', 'key', 'secret', 'apiKey', 'clientSecret', 'adminPassword'])(
    '%s is a secret key',
    (key) => expect(isSecretKey(key)).toBe(true),
  );

  it.each(['systemId', 'host', 'monkey', 'keepalive', 'rejectUnauthorized', 'id'])('%s is not', (key) =>
    expect(isSecretKey(key)).toBe(false),
  );

  it('never lets a secret string through, at any depth', () => {
    const secret = fc.string({ minLength: 1 }).map((s) => `SECRET:${s}`);
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom(1, true, 'plain'),
        fc.record({ password: secret, other: tie('node') }),
        fc.array(tie('node'), { maxLength: 3 }),
        fc.dictionary(fc.constantFrom('a', 'b', 'c'), tie('node'), { maxKeys: 3 }),
      ),
    })).node;
    fc.assert(
      fc.property(tree, (value) => {
        expect(JSON.stringify(redactConfig(value)) ?? '').not.toContain('SECRET:');
      }),
    );
  });
});
