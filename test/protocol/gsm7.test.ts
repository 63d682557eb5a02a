import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SmppError } from '../../src/errors.js';
import {
  decodeGsm7,
  encodeGsm7,
  gsm7CharSeptets,
  gsm7SeptetCount,
  isGsm7Encodable,
  packSeptets,
  UnencodableCharError,
  unpackAllSeptets,
  unpackSeptets,
} from '../../src/protocol/gsm7.js';

// Reference §9.1, written out column by column (high nibble 0x00..0x70, rows 0x0..0xF).
// null marks 0x1B (ESC), which is not a character.
const COLUMNS: (string | null)[][] = [
  ['@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å'],
  ['Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', null, 'Æ', 'æ', 'ß', 'É'],
  [' ', '!', '"', '#', '¤', '%', '&', "'", '(', ')', '*', '+', ',', '-', '.', '/'],
  ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?'],
  ['¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O'],
  ['P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§'],
  ['¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o'],
  ['p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à'],
];
const BASIC: [number, string][] = COLUMNS.flatMap((column, high) =>
  column.flatMap((char, low): [number, string][] => (char === null ? [] : [[high * 16 + low, char]])),
);

// Reference §9.2: code after ESC -> character.
const EXTENSION: [number, string][] = [
  [0x0a, '\f'],
  [0x14, '^'],
  [0x28, '{'],
  [0x29, '}'],
  [0x2f, '\\'],
  [0x3c, '['],
  [0x3d, '~'],
  [0x3e, ']'],
  [0x40, '|'],
  [0x65, '€'],
];

const GSM_CHARS = [...BASIC, ...EXTENSION].map(([, char]) => char);

describe('GSM 03.38 default alphabet', () => {
  it('has 127 characters (128 septets less ESC)', () => {
    expect(BASIC).toHaveLength(127);
  });

  it.each(BASIC.map(([septet, char]) => [septet.toString(16).padStart(2, '0'), septet, char] as const))(
    'septet 0x%s round-trips',
    (_hex, septet, char) => {
      expect(encodeGsm7(char)).toEqual(Buffer.from([septet]));
      expect(decodeGsm7(Buffer.from([septet]))).toBe(char);
      expect(gsm7SeptetCount(char)).toBe(1);
    },
  );

  it('keeps the traps of §9.1: $ is 0x02, ¤ 0x24, § 0x5F, ¿ 0x60, ¡ 0x40, @ 0x00', () => {
    expect([...encodeGsm7('$¤§¿¡@')]).toEqual([0x02, 0x24, 0x5f, 0x60, 0x40, 0x00]);
    expect(isGsm7Encodable('`')).toBe(false);
  });

  it('decodes zero octets as @ rather than ending the text', () => {
    expect(decodeGsm7(Buffer.from([0x48, 0x00, 0x69]))).toBe('H@i');
  });
});

describe('GSM 03.38 extension table', () => {
  it.each(EXTENSION.map(([code, char]) => [code.toString(16).padStart(2, '0'), code, char] as const))(
    'ESC 0x%s round-trips and costs 2 septets',
    (_hex, code, char) => {
      expect(encodeGsm7(char)).toEqual(Buffer.from([0x1b, code]));
      expect(decodeGsm7(Buffer.from([0x1b, code]))).toBe(char);
      expect(gsm7SeptetCount(char)).toBe(2);
      expect(gsm7CharSeptets(char.charCodeAt(0))).toBe(2);
    },
  );

  it('decodes an undefined ESC pair as the base-table character (§9.2 Rec.)', () => {
    expect(decodeGsm7(Buffer.from([0x1b, 0x41, 0x1b, 0x00]))).toBe('A@');
  });

  it('decodes ESC ESC as a space and ignores a trailing lone ESC', () => {
    expect(decodeGsm7(Buffer.from([0x61, 0x1b, 0x1b, 0x62]))).toBe('a b');
    expect(decodeGsm7(Buffer.from([0x61, 0x1b]))).toBe('a');
  });

  it('decodes octets above 0x7F as U+FFFD instead of failing', () => {
    expect(decodeGsm7(Buffer.from([0x61, 0x80, 0x1b, 0xff, 0x62]))).toBe('a\ufffd\ufffdb');
  });
});

describe('gsm7SeptetCount and isGsm7Encodable', () => {
  it('counts extension characters as 2 septets (§9.3 example)', () => {
    expect(gsm7SeptetCount('Hello {world} €5')).toBe(19);
    expect(encodeGsm7('Hello {world} €5')).toHaveLength(19);
  });

  it('rejects a character outside both tables with a typed error naming it', () => {
    const error = (() => {
      try {
        gsm7SeptetCount('ok 😀');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UnencodableCharError);
    expect(error).toBeInstanceOf(SmppError);
    expect(error).toMatchObject({ code: 'SMPP_ERR_TEXT', index: 3, char: '😀' });
    expect(() => encodeGsm7('ç')).toThrow(UnencodableCharError);
  });

  it('treats a raw ESC control character, backtick, emoji and Cyrillic as not encodable', () => {
    for (const text of ['\u001b', '`', '😀', 'Привет', 'ç']) expect(isGsm7Encodable(text)).toBe(false);
    expect(isGsm7Encodable(GSM_CHARS.join(''))).toBe(true);
    expect(isGsm7Encodable('')).toBe(true);
  });

  it('round-trips any text of table characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...GSM_CHARS), maxLength: 300, size: 'max' }), (text) => {
        expect(decodeGsm7(encodeGsm7(text))).toBe(text);
      }),
    );
  });
});

describe('septet packing', () => {
  it('packs "hellohello" to the well-known E8329BFD4697D9EC37', () => {
    expect(packSeptets(encodeGsm7('hellohello')).toString('hex')).toBe('e8329bfd4697d9ec37');
  });

  it('places fill bits before the first septet (1 bit after a 6-octet UDH)', () => {
    expect([...packSeptets(Buffer.from([0x41]), 1)]).toEqual([0x82]);
    expect([...unpackSeptets(Buffer.from([0x82]), 1, 1)]).toEqual([0x41]);
  });

  it('fills 153 septets after 1 fill bit into exactly 134 octets (§9.4)', () => {
    expect(packSeptets(Buffer.alloc(153, 0x7f), 1)).toHaveLength(134);
    expect(packSeptets(Buffer.alloc(160, 0x7f))).toHaveLength(140);
  });

  it('round-trips any septets with any fill bits', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ max: 0x7f, maxLength: 400, size: 'max' }),
        fc.integer({ min: 0, max: 6 }),
        (septets, fillBits) => {
          const packed = packSeptets(septets, fillBits);
          expect(packed).toHaveLength(Math.ceil((fillBits + 7 * septets.length) / 8));
          expect([...unpackSeptets(packed, septets.length, fillBits)]).toEqual([...septets]);
        },
      ),
    );
  });

  it('unpacks every whole septet when the count is unknown, dropping 7 padding bits', () => {
    const seven = encodeGsm7('abcdefg');
    const packedSeven = packSeptets(seven);
    expect(packedSeven).toHaveLength(7);
    expect(decodeGsm7(unpackAllSeptets(packedSeven))).toBe('abcdefg');
    expect(decodeGsm7(unpackAllSeptets(packSeptets(encodeGsm7('abcdefgh'))))).toBe('abcdefgh');
    expect(decodeGsm7(unpackAllSeptets(packSeptets(encodeGsm7('hi'), 1), 1))).toBe('hi');
    expect(unpackAllSeptets(Buffer.alloc(0))).toHaveLength(0);
  });

  it('fills 7 spare bits with CR when asked, which unpacking without a count drops', () => {
    const packed = packSeptets(encodeGsm7('abcdefg'), 0, { crPadding: true });
    expect(packed).toHaveLength(7);
    expect(unpackSeptets(packed, 8)[7]).toBe(0x0d);
    expect(decodeGsm7(unpackAllSeptets(packed))).toBe('abcdefg');
    // Fewer spare bits: no CR, same bytes as plain packing.
    expect(packSeptets(encodeGsm7('hellohello'), 0, { crPadding: true })).toEqual(
      packSeptets(encodeGsm7('hellohello')),
    );
    // After one fill bit, 152 septets leave 7 spare bits in 134 octets.
    const afterUdh = packSeptets(Buffer.alloc(152, 0x41), 1, { crPadding: true });
    expect(afterUdh).toHaveLength(134);
    expect(unpackAllSeptets(afterUdh, 1)).toEqual(Buffer.alloc(152, 0x41));
  });

  it('keeps a final @ in the padding position when zero padding is not to be dropped', () => {
    const packed = packSeptets(encodeGsm7('abcdefg'));
    expect(decodeGsm7(unpackAllSeptets(packed, 0, { dropZeroPadding: false }))).toBe('abcdefg@');
  });

  it('rejects bad fill bits, non-septet octets and counts beyond the data with SmppError', () => {
    expect(() => packSeptets(Buffer.from([1]), 7)).toThrow(SmppError);
    expect(() => packSeptets(Buffer.from([0x80]))).toThrow(SmppError);
    expect(() => unpackSeptets(Buffer.from([1, 2]), 3)).toThrow(SmppError);
    expect(() => unpackSeptets(Buffer.from([1]), 1, 2)).toThrow(SmppError);
    expect(() => unpackAllSeptets(Buffer.from([1]), -1)).toThrow(SmppError);
  });
});
