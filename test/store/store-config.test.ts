import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { parseConfigText } from '../../src/config/load-config.js';
import { demoConfig } from '../../src/config/service-config.js';
import { openStore } from '../../src/store/index.js';

const parse = (text: string) => parseConfigText(text, { env: {}, baseDir: process.cwd() });

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
});
