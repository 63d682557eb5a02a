// Config for the inbound path: `mo:` (reassembly timeout, redelivery window) and the per-bind
// `inboundErrorStatus` (by name or vendor code, inherited from `defaults`), refused with the key's path.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { parseConfigText } from '../../src/config/load-config.js';
import { CommandStatus } from '../../src/protocol/command-status.js';

const parse = (text: string) => parseConfigText(text, { env: {}, baseDir: process.cwd() });

const bind = (extra = '', id = 'a') =>
  `  - id: ${id}\n    host: smsc.example\n    port: 2775\n    systemId: acme\n    password: secret\n${extra}`;

function issuePaths(text: string): string[] {
  try {
    parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues.map((i) => i.path);
  }
  throw new Error('expected a ConfigError, but the config loaded');
}

describe('config mo', () => {
  it('defaults to a 5 minute reassembly timeout and a 10 minute redelivery window', () => {
    expect(parse('binds: []').mo).toEqual({ reassemblyTimeoutMs: 300_000, dedupWindowMs: 600_000 });
  });

  it('takes both keys, and refuses a timeout under a second or an unknown key with its path', () => {
    expect(parse('mo: { reassemblyTimeoutMs: 60000, dedupWindowMs: 0 }').mo).toEqual({
      reassemblyTimeoutMs: 60_000,
      dedupWindowMs: 0,
    });
    expect(issuePaths('mo: { reassemblyTimeoutMs: 10 }')).toContain('mo.reassemblyTimeoutMs');
    expect(issuePaths('mo: { dedupWindow: 1000 }')).toEqual(['mo.dedupWindow']);
  });
});

describe('config inboundErrorStatus', () => {
  it('is unset by default (the registry answers ESME_RSYSERR), by name per bind, inherited from defaults', () => {
    const config = parse(
      `defaults: { inboundErrorStatus: ESME_RX_T_APPN }\nbinds:\n${bind()}${bind('    inboundErrorStatus: ESME_RSYSERR\n', 'b')}${bind('    inboundErrorStatus: 1024\n', 'c')}`,
    );
    expect(config.binds.map((b) => [b.id, b.inboundErrorStatus])).toEqual([
      ['a', CommandStatus.ESME_RX_T_APPN],
      ['b', CommandStatus.ESME_RSYSERR],
      ['c', 0x400],
    ]);
    expect(parse(`binds:\n${bind()}`).binds[0]!.inboundErrorStatus).toBeUndefined();
  });

  it('refuses a permanent status name (the SMSC would drop the message) with its path', () => {
    expect(issuePaths(`binds:\n${bind('    inboundErrorStatus: ESME_RINVDSTADR\n')}`)).toEqual([
      'binds[0].inboundErrorStatus',
    ]);
  });
});
