import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { parseConfigText } from '../../src/config/load-config.js';
import { REDACTED, redactConfig } from '../../src/config/redact.js';
import { demoConfig } from '../../src/config/service-config.js';
import { openStore } from '../../src/store/index.js';

const parse = (text: string, env: Record<string, string> = {}) =>
  parseConfigText(text, { env, baseDir: process.cwd() });

function issuesOf(fn: () => unknown): ConfigError['issues'] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('store config', () => {
  it('defaults to ./data/smpp-bridge.db, synchronous full, 7 days', () => {
    expect(parse('http: { port: 8080 }').store).toEqual({
      path: './data/smpp-bridge.db',
      synchronous: 'full',
      retentionDays: 7,
    });
  });

  it('takes the keys of the store section', () => {
    expect(
      parse('store: { path: /var/lib/sb/store.db, synchronous: normal, retentionDays: 30 }').store,
    ).toEqual({
      path: '/var/lib/sb/store.db',
      synchronous: 'normal',
      retentionDays: 30,
    });
  });

  it('names the key of a bad value', () => {
    let error: unknown;
    try {
      parse('store: { synchronous: off, retentionDays: 0 }');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.path).sort()).toEqual([
      'store.retentionDays',
      'store.synchronous',
    ]);
  });

  it('puts the demo store in the OS temp directory', () => {
    expect(demoConfig().store.path.startsWith(tmpdir())).toBe(true);
  });

  it('opens a working store from the resolved config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-store-config-'));
    try {
      const config = parse(`store: { path: ${join(dir, 'a', 'b.db')} }`);
      const store = openStore({ ...config.store });
      expect((await store.healthCheck()).ok).toBe(true);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('selects PostgreSQL with store.url, or SMPP_BRIDGE_STORE_URL over the file', () => {
    expect(parse('store: { url: "postgres://sb:pw@db.internal:5432/sb" }').store.url).toBe(
      'postgres://sb:pw@db.internal:5432/sb',
    );
    expect(
      parse('store: { url: "postgres://a@h/db" }', { SMPP_BRIDGE_STORE_URL: 'postgresql://b:pw@h2/db2' })
        .store.url,
    ).toBe('postgresql://b:pw@h2/db2');
    expect(parse('http: { port: 8080 }').store.url).toBeUndefined();
  });

  it('takes the replica name from SMPP_BRIDGE_LEASE_OWNER over leases.owner', () => {
    expect(parse('leases: { owner: from-file }', { SMPP_BRIDGE_LEASE_OWNER: 'pod-7' }).leases.owner).toBe(
      'pod-7',
    );
    expect(parse('leases: { owner: from-file }').leases.owner).toBe('from-file');
    expect(parse('http: { port: 8080 }').leases.owner).toBeUndefined();
    expect(
      issuesOf(() => parse('http: { port: 8080 }', { SMPP_BRIDGE_LEASE_OWNER: 'x'.repeat(201) })).map(
        (i) => i.path,
      ),
    ).toEqual(['env.SMPP_BRIDGE_LEASE_OWNER']);
  });

  it('names store.url (or the variable) when it is not a PostgreSQL URL, without echoing it', () => {
    expect(issuesOf(() => parse('store: { url: "mysql://u:pw@h/db" }')).map((i) => i.path)).toEqual([
      'store.url',
    ]);
    const env = issuesOf(() =>
      parse('http: { port: 8080 }', { SMPP_BRIDGE_STORE_URL: 'mysql://u:hunter2@h/db' }),
    );
    expect(env.map((i) => i.path)).toEqual(['env.SMPP_BRIDGE_STORE_URL']);
    expect(JSON.stringify(env)).not.toContain('hunter2');
  });

  it('redacts the password of store.url wherever config is shown', () => {
    const config = parse('store: { url: "postgres://sb:hunter2@db:5432/sb?sslmode=require&password=also" }');
    const shown = JSON.stringify(redactConfig(config));
    expect(shown).not.toContain('hunter2');
    expect(shown).not.toContain('also');
    expect(redactConfig(config).store.url).toBe(
      `postgres://sb:${REDACTED}@db:5432/sb?sslmode=require&password=${REDACTED}`,
    );
    // Other URLs without a password are left alone.
    expect(redactConfig({ url: 'https://example.test/hook' }).url).toBe('https://example.test/hook');
  });
});
