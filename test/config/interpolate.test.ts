// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests write ${VAR} references into config text on purpose.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpolateString, interpolateTree } from '../../src/config/interpolate.js';

describe('interpolateString', () => {
  const env = { USER: 'acme', EMPTY: '', PASS: 'p@ss$word' };

  it.each([
    ['${USER}', 'acme'],
    ['id-${USER}-x', 'id-acme-x'],
    ['${USER}${USER}', 'acmeacme'],
    ['${MISSING:-fallback}', 'fallback'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${USER:-fallback}', 'acme'],
    ['${MISSING:-}', ''],
    ['${EMPTY}', ''],
    ['${PASS}', 'p@ss$word'],
    ['$${USER}', '${USER}'],
    ['cost: $5 and $USER', 'cost: $5 and $USER'],
    ['${MISSING:-a:-b}', 'a:-b'],
  ])('%s → %s', (text, expected) => {
    expect(interpolateString(text, env)).toEqual({ ok: true, value: expected });
  });

  it('names every missing variable and shows how to give a default', () => {
    const result = interpolateString('${A}:${B}', {});
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.message).toContain('A, B are not set');
      expect(result.message).toContain('${A:-default}');
    }
  });

  it.each(['${', 'x${USER', '${1ABC}', '${A-B}', '${}'])('rejects malformed %s', (text) => {
    const result = interpolateString(text, env);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(/^malformed reference/);
  });

  it('never changes text without "${"', () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !s.includes('${')),
        (text) => {
          expect(interpolateString(text, env)).toEqual({ ok: true, value: text });
        },
      ),
    );
  });

  it('substitutes values verbatim, whatever characters they hold', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (before, value, after) => {
        const safe = (s: string) => s.replaceAll('$', '');
        const result = interpolateString(`${safe(before)}\${V}${safe(after)}`, { V: value });
        expect(result).toEqual({ ok: true, value: `${safe(before)}${value}${safe(after)}` });
      }),
    );
  });
});

describe('interpolateTree', () => {
  it('substitutes string values at any depth, leaves keys and other types alone', () => {
    const tree = { '${K}': 1, list: ['${V}', 2, true, null], nested: { deep: 'x${V}' } };
    const result = interpolateTree(tree, { V: 'v', K: 'k' });
    expect(result.value).toEqual({ '${K}': 1, list: ['v', 2, true, null], nested: { deep: 'xv' } });
    expect(result.substituted).toEqual([
      ['list', 0],
      ['nested', 'deep'],
    ]);
    expect(result.issues).toEqual([]);
  });

  it('reports each failing value with its path', () => {
    const result = interpolateTree({ binds: [{ password: '${NOPE}' }] }, {});
    expect(result.issues).toEqual([
      { path: ['binds', 0, 'password'], message: expect.stringContaining('NOPE is not set') },
    ]);
  });
});
