import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SmppError } from '../../src/errors.js';
import { UnencodableCharError } from '../../src/protocol/gsm7.js';
import {
  chooseEncoding,
  decodeLatin1,
  decodeText,
  encodeLatin1,
  encodeText,
  isGsm7DataCoding,
  isLatin1Encodable,
} from '../../src/protocol/text.js';
import { decodeUcs2, encodeUcs2 } from '../../src/protocol/ucs2.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('UCS-2', () => {
  it('encodes big-endian, two octets per code unit', () => {
    expect(encodeUcs2('Hi€')).toEqual(hex('0048 0069 20AC'));
  });

  it('keeps a character outside the BMP as its surrogate pair', () => {
    expect(encodeUcs2('😀')).toEqual(hex('D83D DE00'));
    expect(decodeUcs2(hex('D83D DE00 0021'))).toBe('😀!');
  });

  it('ignores an odd trailing octet and leaves the input untouched', () => {
    const input = hex('0048 0069 20');
    expect(decodeUcs2(input)).toBe('Hi');
    expect(input).toEqual(hex('0048 0069 20'));
  });

  it('round-trips any string, lone surrogates included', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 200, size: 'max' }),
        fc.string({ maxLength: 5 }),
        (a, b) => {
          const text = `${a}\ud800${b}`;
          expect(decodeUcs2(encodeUcs2(text))).toBe(text);
        },
      ),
    );
  });
});

describe('Latin-1', () => {
  it('encodes U+0000-U+00FF as one octet each', () => {
    expect(encodeLatin1('café ÿ')).toEqual(hex('63 61 66 E9 20 FF'));
    expect(decodeLatin1(hex('63 61 66 E9'))).toBe('café');
  });

  it('refuses characters above U+00FF with a typed error', () => {
    expect(() => encodeLatin1('5 €')).toThrow(UnencodableCharError);
    expect(isLatin1Encodable('5 €')).toBe(false);
    expect(isLatin1Encodable('façade')).toBe(true);
  });
});

describe('chooseEncoding', () => {
  it('uses GSM 7-bit when every character is in the tables, counting septets', () => {
    expect(chooseEncoding('Hello')).toEqual({ encoding: 'gsm7', dataCoding: 0, units: 5 });
    expect(chooseEncoding('Price: 5€ [net]')).toEqual({ encoding: 'gsm7', dataCoding: 0, units: 18 });
    expect(chooseEncoding('')).toEqual({ encoding: 'gsm7', dataCoding: 0, units: 0 });
  });

  it('falls back to UCS-2 by default when a character is not GSM, even if Latin-1 could carry it', () => {
    expect(chooseEncoding('façade')).toEqual({ encoding: 'ucs2', dataCoding: 8, units: 6 });
    expect(chooseEncoding('😀')).toEqual({ encoding: 'ucs2', dataCoding: 8, units: 2 });
  });

  it('uses Latin-1 for non-GSM text only when allowLatin1 is set and it fits', () => {
    expect(chooseEncoding('façade', { allowLatin1: true })).toEqual({
      encoding: 'latin1',
      dataCoding: 3,
      units: 6,
    });
    expect(chooseEncoding('Hello', { allowLatin1: true }).encoding).toBe('gsm7');
    expect(chooseEncoding('façade €', { allowLatin1: true }).encoding).toBe('ucs2');
    expect(chooseEncoding('Привет', { allowLatin1: true }).encoding).toBe('ucs2');
  });
});

describe('encodeText', () => {
  it('writes unpacked GSM for data_coding 0 unless packing is asked for', () => {
    expect(encodeText('@€', 0)).toEqual(hex('00 1B 65'));
    expect(encodeText('hellohello', 0, { gsm7Packed: true })).toEqual(hex('E8329BFD4697D9EC37'));
    // 7 septets leave 7 spare bits: CR fills them, and decoding without a count drops it.
    const seven = encodeText('abcdefg', 0, { gsm7Packed: true });
    expect(seven).toHaveLength(7);
    expect(decodeText(seven, 0, { gsm7Packed: true }).text).toBe('abcdefg');
    expect(decodeText(seven, 0, { gsm7Packed: true, septetCount: 8 }).text).toBe('abcdefg\r');
  });

  it('writes ASCII, octets, Latin-1 and UCS-2 for 1, 2/4, 3 and 8', () => {
    expect(encodeText('Hi', 1)).toEqual(hex('48 69'));
    expect(() => encodeText('é', 1)).toThrow(UnencodableCharError);
    expect(encodeText('\u0000é', 2)).toEqual(hex('00 E9'));
    expect(encodeText('é', 4)).toEqual(hex('E9'));
    expect(encodeText('é', 3)).toEqual(hex('E9'));
    expect(encodeText('é', 8)).toEqual(hex('00 E9'));
  });

  it('follows bit 2 of a 0xF0-0xFF data_coding', () => {
    expect(encodeText('@', 0xf0)).toEqual(hex('00'));
    expect(encodeText('é', 0xf5)).toEqual(hex('E9'));
  });

  it('throws a typed error for a data_coding it cannot write', () => {
    expect(() => encodeText('x', 0x05)).toThrow(SmppError);
    expect(() => encodeText('x', 0x05)).toThrow(/data_coding 0x5/);
  });
});

describe('decodeText', () => {
  it('reads data_coding 0 as unpacked GSM by default', () => {
    expect(decodeText(hex('48 00 1B 65'), 0)).toEqual({
      text: 'H@€',
      encoding: 'gsm7',
      latin1Fallback: false,
    });
  });

  it('reads packed GSM when told, with fill bits and an optional septet count', () => {
    expect(decodeText(hex('E8329BFD4697D9EC37'), 0, { gsm7Packed: true }).text).toBe('hellohello');
    expect(decodeText(hex('82'), 0, { gsm7Packed: true, fillBits: 1, septetCount: 1 }).text).toBe('A');
  });

  it('reads 1 as ASCII, 3 as Latin-1 and 8 as UCS-2', () => {
    expect(decodeText(hex('48 69'), 1)).toMatchObject({ text: 'Hi', encoding: 'ascii' });
    expect(decodeText(hex('E9'), 3)).toMatchObject({ text: 'é', encoding: 'latin1', latin1Fallback: false });
    expect(decodeText(hex('D83D DE00'), 8)).toMatchObject({ text: '😀', encoding: 'ucs2' });
  });

  it('keeps the octets of binary data_coding 2 and 4 next to a Latin-1 text', () => {
    for (const dc of [2, 4]) {
      const decoded = decodeText(hex('00 FF 41'), dc);
      expect(decoded).toMatchObject({ text: '\u0000ÿA', encoding: 'binary', latin1Fallback: false });
      expect(decoded.binary).toEqual(hex('00 FF 41'));
    }
  });

  it('reads the 0xF0-0xFF message-class group: bit 2 picks GSM or 8-bit, bits 1-0 the class', () => {
    expect(decodeText(hex('00'), 0xf0)).toMatchObject({ text: '@', encoding: 'gsm7', messageClass: 0 });
    expect(decodeText(hex('00'), 0xf3)).toMatchObject({ text: '@', encoding: 'gsm7', messageClass: 3 });
    const eightBit = decodeText(hex('E9'), 0xf5);
    expect(eightBit).toMatchObject({ text: 'é', encoding: 'binary', messageClass: 1 });
    expect(eightBit.binary).toEqual(hex('E9'));
  });

  it('reads the message-waiting groups: 0xC0-0xDF as GSM, 0xE0-0xEF as UCS-2', () => {
    expect(decodeText(hex('00'), 0xc8)).toMatchObject({ text: '@', encoding: 'gsm7' });
    expect(decodeText(hex('00 E9'), 0xe0)).toMatchObject({ text: 'é', encoding: 'ucs2' });
  });

  it('reads an unsupported data_coding as Latin-1 and flags it', () => {
    for (const dc of [0x05, 0x06, 0x0b, 0x20, 0xbf]) {
      expect(decodeText(hex('41 E9'), dc)).toEqual({ text: 'Aé', encoding: 'latin1', latin1Fallback: true });
    }
  });

  it('never throws for any octets and any data_coding', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 255 }), (buf, dc) => {
        expect(typeof decodeText(buf, dc).text).toBe('string');
      }),
    );
  });

  it('round-trips encodeText for every data_coding it writes', () => {
    const gsm = fc.string({
      unit: fc.constantFrom(...'@£$¥èé Hello{}[]€\\~|^\n'),
      maxLength: 200,
      size: 'max',
    });
    const latin = fc.string({
      unit: fc.integer({ min: 0, max: 0xff }).map((c) => String.fromCharCode(c)),
      maxLength: 200,
      size: 'max',
    });
    fc.assert(
      fc.property(gsm, (text) => {
        for (const dc of [0, 0xf1]) expect(decodeText(encodeText(text, dc), dc).text).toBe(text);
      }),
    );
    fc.assert(
      fc.property(latin, (text) => {
        for (const dc of [2, 3, 4, 8, 0xf4]) expect(decodeText(encodeText(text, dc), dc).text).toBe(text);
      }),
    );
  });

  it('agrees with isGsm7DataCoding on which values are GSM', () => {
    for (let dc = 0; dc <= 0xff; dc++) {
      const gsm = decodeText(Buffer.alloc(0), dc).encoding === 'gsm7';
      expect(isGsm7DataCoding(dc)).toBe(gsm);
    }
  });
});
