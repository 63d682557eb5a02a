/** Config keys traceSize and traceMaxBytes: in defaults and per bind, 0 allowed, bad values named by path. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { parseConfigText } from '../../src/config/load-config.js';

const parse = (text: string) => parseConfigText(text, { env: {}, baseDir: '/tmp' });

const BINDS = `
binds:
  - { id: a, host: 127.0.0.1, port: 2775, systemId: esme, password: pw }
  - { id: b, host: 127.0.0.1, port: 2775, systemId: esme, password: pw, traceSize: 0 }
`;

describe('config traceSize / traceMaxBytes', () => {
  it('default to 200 PDUs and 64 KiB; defaults and each bind may set them (0 = off)', () => {
    const plain = parse(BINDS);
    expect(plain.binds.map((b) => [b.traceSize, b.traceMaxBytes])).toEqual([
      [200, 65_536],
      [0, 65_536],
    ]);
    const tuned = parse(`defaults: { traceSize: 50, traceMaxBytes: 8192 }\n${BINDS}`);
    expect(tuned.binds.map((b) => [b.traceSize, b.traceMaxBytes])).toEqual([
      [50, 8192],
      [0, 8192],
    ]);
  });

  it('refuses a negative size or a byte cap below 1024, naming the key', () => {
    for (const [text, path] of [
      [`defaults: { traceSize: -1 }\n${BINDS}`, 'defaults.traceSize'],
      [`defaults: { traceMaxBytes: 100 }\n${BINDS}`, 'defaults.traceMaxBytes'],
    ] as const) {
      try {
        parse(text);
        expect.unreachable(`${path} accepted`);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).issues.map((i) => i.path)).toContain(path);
      }
    }
  });
});
