/** Config `routes` and `outbound`: parsed with defaults, and every mistake named by its key's path. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_OUTBOUND } from '../../../src/bridge/outbound/options.js';
import { ConfigError } from '../../../src/config/config-error.js';
import { parseConfigText } from '../../../src/config/load-config.js';

const parse = (text: string) => parseConfigText(text, { env: {}, baseDir: '/' });

const BINDS = `
binds:
  - { id: a, host: 127.0.0.1, port: 2775, systemId: s, password: p }
  - { id: b, host: 127.0.0.1, port: 2775, systemId: s, password: p, bindType: tx }
  - { id: r, host: 127.0.0.1, port: 2775, systemId: s, password: p, bindType: rx }
`;

function issues(text: string): string[] {
  try {
    parse(text);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  return [];
}

describe('config routes and outbound', () => {
  it('takes routes and the engine knobs, with defaults for what is left out', () => {
    const config = parse(`${BINDS}
routes:
  - { id: uk, binds: [a, b], prefixes: ['+44'], strategy: failover, tps: 50, idFormat: hexSubmitDecReceipt }
  - { id: rest, binds: [a], resubmitOnTimeout: true }
outbound:
  maxQueuedParts: 5000
  retry: { maxAttempts: 5 }
`);
    expect(config.routes).toEqual([
      {
        id: 'uk',
        binds: ['a', 'b'],
        prefixes: ['+44'],
        strategy: 'failover',
        tps: 50,
        idFormat: 'hexSubmitDecReceipt',
      },
      { id: 'rest', binds: ['a'], resubmitOnTimeout: true },
    ]);
    expect(config.outbound).toEqual({
      ...DEFAULT_OUTBOUND,
      maxQueuedParts: 5000,
      retry: { ...DEFAULT_OUTBOUND.retry, maxAttempts: 5 },
    });
  });

  it('without routes or outbound: none configured (the default route is built from the binds), default knobs', () => {
    const config = parse(BINDS);
    expect(config.routes).toEqual([]);
    expect(config.outbound).toEqual(DEFAULT_OUTBOUND);
  });

  it('names each mistake by its path', () => {
    const found = issues(`${BINDS}
routes:
  - { id: x, binds: [a, nope, r], strategy: random, tps: 0 }
  - { id: x, binds: [] , prefixes: [abc] }
outbound:
  claimBatch: 0
  retry: { maxAttempts: 0 }
`);
    const paths = found.map((f) => f.split(':')[0]);
    expect(paths).toEqual(
      expect.arrayContaining([
        'routes[0].binds[1]',
        'routes[0].binds[2]',
        'routes[0].strategy',
        'routes[0].tps',
        'routes[1].id',
        'routes[1].binds',
        'routes[1].prefixes[0]',
        'outbound.claimBatch',
        'outbound.retry.maxAttempts',
      ]),
    );
    expect(found.find((f) => f.startsWith('routes[0].binds[1]'))).toContain('no bind "nope"');
    expect(found.find((f) => f.startsWith('routes[0].binds[2]'))).toContain('receiver');
  });
});
