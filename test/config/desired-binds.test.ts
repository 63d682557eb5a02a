/**
 * The one desired bind set (config binds + stored API binds) and the check of an API bind, which
 * must be the config file's own: schema, defaults, cross-field rules, field paths.
 */
import { describe, expect, it } from 'vitest';
import { desiredBinds, parseBindDefinition } from '../../src/config/desired-binds.js';
import { parseConfigText } from '../../src/config/load-config.js';
import type { BindDefinition } from '../../src/store/store.js';

const config = parseConfigText(
  [
    'defaults: { enquireLinkIntervalMs: 20000, windowSize: 4 }',
    'binds:',
    '  - { id: file-a, host: smsc.test, port: 2775, systemId: a, password: pw }',
  ].join('\n'),
  { env: {}, baseDir: '/nonexistent' },
);

function stored(id: string, definition: Record<string, unknown>, enabled = true): BindDefinition {
  return { id, definition, enabled, version: 1, createdAt: 0, updatedAt: 0 };
}

const entry = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  host: 'smsc.test',
  port: 2776,
  systemId: id.slice(0, 15),
  password: 'pw',
  ...extra,
});

function issuesOf(run: () => unknown): { field: string; message: string }[] {
  try {
    run();
  } catch (error) {
    return [...((error as { issues?: { field: string; message: string }[] }).issues ?? [])];
  }
  throw new Error('expected the definition to be refused');
}

describe('parseBindDefinition', () => {
  it('resolves an entry like the config file does: short forms expanded, `defaults` inherited', () => {
    const options = parseBindDefinition(
      entry('api-1', { bindType: 'tx', interfaceVersion: '5.0', tls: true }),
      config,
    );
    expect(options).toMatchObject({
      id: 'api-1',
      bindType: 'transmitter',
      interfaceVersion: 0x50,
      tls: { enabled: true, rejectUnauthorized: true },
      enquireLinkIntervalMs: 20_000,
      windowSize: 4,
      reconnect: { initialDelayMs: 1_000 },
    });
  });

  it('names every problem by its field, the cross-field rules included', () => {
    const fields = issuesOf(() =>
      parseBindDefinition(
        entry('api-1', {
          port: 0,
          windowSize: 'ten',
          enquireLinkIntervalMs: 5_000,
          inactivityTimeoutMs: 4_000,
          reconnect: { initialDelayMs: 9_000, maxDelayMs: 1_000 },
          tls: { key: 'client.key' },
          prot: 1,
        }),
        config,
      ),
    ).map((i) => i.field);
    expect(fields.sort()).toEqual(
      [
        'port',
        'windowSize',
        'inactivityTimeoutMs',
        'reconnect.initialDelayMs',
        'tls.key',
        'tls.key', // no cert for the key, and the file cannot be read
        'prot',
      ].sort(),
    );
    expect(issuesOf(() => parseBindDefinition('nope', config))).toEqual([
      { field: '', message: expect.stringContaining('expected a mapping') },
    ]);
  });
});

describe('desiredBinds', () => {
  it('is the config binds, then the stored ones; disabled ones named; a stored id the file also has is left out', async () => {
    const store = {
      listBindDefinitions: async () => [
        stored('api-1', entry('api-1')),
        stored('api-off', entry('api-off'), false),
        stored('file-a', entry('file-a', { port: 9 })),
        stored('api-broken', entry('api-broken', { port: 'x' })),
      ],
    };
    const desired = await desiredBinds(config, store);
    expect(desired.binds.map((b) => [b.id, b.port])).toEqual([
      ['file-a', 2775],
      ['api-1', 2776],
      ['api-off', 2776],
    ]);
    expect([...desired.disabled]).toEqual(['api-off']);
    expect(Object.fromEntries(desired.source)).toEqual({
      'file-a': 'config',
      'api-1': 'api',
      'api-off': 'api',
    });
    expect(desired.skipped.map((s) => s.id)).toEqual(['file-a', 'api-broken']);
    expect(desired.skipped[1]?.reason).toContain('port');
  });

  it('without a store is the config binds alone', async () => {
    const desired = await desiredBinds(config, null);
    expect(desired.binds.map((b) => b.id)).toEqual(['file-a']);
  });
});
