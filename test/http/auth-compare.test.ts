/**
 * The token check must take the same path whatever the token: every configured token is compared,
 * always through crypto.timingSafeEqual, always on two SHA-256 digests of the same length.
 */
import * as crypto from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const { createTokenChecker } = await import('../../src/http/plugins/auth.js');

describe('token comparison', () => {
  const tokens = ['first-token', 'second', 'a-much-longer-third-token'];
  const accepts = createTokenChecker(tokens);
  const spy = vi.mocked(crypto.timingSafeEqual);

  it.each([
    ['the first token', 'first-token', true],
    ['the last token', 'a-much-longer-third-token', true],
    ['a wrong short token', 'x', false],
    ['a wrong long token', 'y'.repeat(10_000), false],
  ])('compares %s against every configured token, on equal-length digests', (_name, presented, expected) => {
    spy.mockClear();
    expect(accepts(presented)).toBe(expected);
    expect(spy).toHaveBeenCalledTimes(tokens.length);
    for (const [a, b] of spy.mock.calls) {
      expect((a as Buffer).length).toBe(32);
      expect((b as Buffer).length).toBe(32);
    }
  });
});
