/**
 * One canonical message id for both sides: a submit id and its receipt id compare equal whatever the
 * case, padding, surrounding junk or (by the route's format) base.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalMessageId, cleanMessageId, ID_FORMATS, sameMessage } from '../../src/bridge/message-id.js';

/** Dresses an id up the way SMSCs do: leading zeros, random case, spaces, a trailing NUL. */
const dressed = (id: string) =>
  fc
    .tuple(
      fc.nat({ max: 3 }),
      fc.array(fc.boolean(), { minLength: id.length, maxLength: id.length }),
      fc.boolean(),
      fc.boolean(),
    )
    .map(
      ([zeros, upper, space, nul]) =>
        `${space ? ' ' : ''}${'0'.repeat(zeros)}${[...id].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join('')}${nul ? '\0' : ''}${space ? '  ' : ''}`,
    );

describe('canonicalMessageId', () => {
  it('cleans NULs, space, case and leading zeros on every format', () => {
    expect(cleanMessageId(' 00AbC\0 ')).toBe('abc');
    expect(cleanMessageId('0000')).toBe('0');
    for (const format of ID_FORMATS)
      expect(canonicalMessageId('\0 msg-XY ', 'submit', format)).toBe('msg-xy');
  });

  it('string: opaque ids, compared after clean-up only', () => {
    expect(sameMessage('0A1B', 'a1b')).toBe(true);
    expect(sameMessage('ff', '255')).toBe(false);
  });

  it('hexSubmitDecReceipt: a hex submit id matches its decimal receipt id', () => {
    expect(canonicalMessageId('0000FF', 'submit', 'hexSubmitDecReceipt')).toBe('255');
    expect(canonicalMessageId('00255', 'receipt', 'hexSubmitDecReceipt')).toBe('255');
    expect(sameMessage('7A120', '500000', 'hexSubmitDecReceipt')).toBe(true);
    // The receipt side is decimal: a hex-looking receipt id is not converted.
    expect(sameMessage('ff', 'ff', 'hexSubmitDecReceipt')).toBe(false);
  });

  it('decSubmitHexReceipt: a decimal submit id matches its hex receipt id', () => {
    expect(sameMessage('500000', '0007a120', 'decSubmitHexReceipt')).toBe(true);
    expect(sameMessage('500000', '500000', 'decSubmitHexReceipt')).toBe(false);
  });

  it("an id that is not a number in its side's base, or too long, stays a string", () => {
    expect(canonicalMessageId('msg-1', 'submit', 'hexSubmitDecReceipt')).toBe('msg-1');
    const long = 'f'.repeat(65);
    expect(canonicalMessageId(long, 'submit', 'hexSubmitDecReceipt')).toBe(long);
  });

  it('property: a submit id and its dressed-up receipt id compare equal, in every format', () => {
    const n = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });
    fc.assert(
      fc.property(
        n.chain((v) => fc.tuple(fc.constant(v), dressed(v.toString(16)), dressed(v.toString(10)))),
        ([, hex, dec]) => {
          expect(sameMessage(hex, dec, 'hexSubmitDecReceipt')).toBe(true);
          expect(sameMessage(dec, hex, 'decSubmitHexReceipt')).toBe(true);
        },
      ),
    );
    fc.assert(
      fc.property(
        fc.stringMatching(/^[1-9a-z][0-9a-z-]{0,30}$/).chain((id) => fc.tuple(fc.constant(id), dressed(id))),
        ([id, receipt]) => {
          expect(sameMessage(id, receipt, 'string')).toBe(true);
        },
      ),
    );
  });

  it('keeps an id whose leading zeros stand before a space or a sign as it is (found by the property below)', () => {
    expect(canonicalMessageId('0 !', 'submit', 'string')).toBe('0 !');
    expect(canonicalMessageId('0 !', 'receipt', 'string')).toBe(
      canonicalMessageId('0 !', 'submit', 'string'),
    );
    expect(canonicalMessageId('007a', 'submit', 'string')).toBe('7a');
    expect(canonicalMessageId('000', 'submit', 'string')).toBe('0');
  });

  it('property: different numbers never collide, and canonical forms are fixed points', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 1n << 100n }),
        fc.bigInt({ min: 0n, max: 1n << 100n }),
        (a, b) => {
          fc.pre(a !== b);
          expect(sameMessage(a.toString(16), b.toString(10), 'hexSubmitDecReceipt')).toBe(false);
        },
      ),
    );
    fc.assert(
      // The canonical form is decimal for numeric formats, so re-reading it on the decimal side (or as
      // a string) changes nothing.
      fc.property(fc.string({ maxLength: 70 }), fc.constantFrom(...ID_FORMATS), (id, format) => {
        const decimalSide = format === 'hexSubmitDecReceipt' ? 'receipt' : 'submit';
        const once = canonicalMessageId(id, decimalSide === 'receipt' ? 'submit' : 'receipt', format);
        expect(canonicalMessageId(once, decimalSide, format)).toBe(once);
        expect(canonicalMessageId(once, 'submit', 'string')).toBe(once);
      }),
    );
  });
});
