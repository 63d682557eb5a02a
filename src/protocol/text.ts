/**
 * Text <-> short_message octets by data_coding (reference §8.6, §9.3), and the choice of the cheapest
 * encoding for outbound text. Decoding never throws: an unsupported data_coding decodes as Latin-1 and says so.
 */
import { ErrorCode, SmppError } from '../errors.js';
import { DataCoding } from './constants.js';
import {
  decodeGsm7,
  encodeGsm7,
  gsm7CharSeptets,
  packSeptets,
  UnencodableCharError,
  unpackAllSeptets,
  unpackSeptets,
} from './gsm7.js';
import { decodeUcs2, encodeUcs2 } from './ucs2.js';

/** The alphabets this module encodes outbound text with. */
export type TextEncoding = 'gsm7' | 'latin1' | 'ucs2';

/** The alphabets decodeText can report. */
export type DecodedEncoding = TextEncoding | 'ascii' | 'binary';

function encodeSingleByte(text: string, max: number, name: string): Buffer {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > max) throw new UnencodableCharError(name, text, i);
  }
  return Buffer.from(text, 'latin1');
}

/** Encodes text as ISO-8859-1, one octet per character; throws UnencodableCharError above U+00FF. */
export function encodeLatin1(text: string): Buffer {
  return encodeSingleByte(text, 0xff, 'Latin-1');
}

/** Decodes ISO-8859-1 octets (every octet maps to U+0000-U+00FF). */
export function decodeLatin1(buf: Uint8Array): string {
  return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('latin1');
}

/** True when every character of text is U+0000-U+00FF. */
export function isLatin1Encodable(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return false;
  return true;
}

/** Options for chooseEncoding. */
export interface ChooseEncodingOptions {
  /** Allow Latin-1 (data_coding 3) for text that is not GSM but fits in Latin-1. Default false: many SMSCs mistreat 3. */
  allowLatin1?: boolean;
}

/** The encoding chosen for a text and its size in that encoding's units. */
export interface EncodingChoice {
  encoding: TextEncoding;
  dataCoding: 0 | 3 | 8;
  /** Septets (gsm7), octets (latin1) or UTF-16 code units (ucs2). */
  units: number;
}

/** Picks the cheapest encoding: GSM 7-bit if every character encodes, else Latin-1 (when allowed), else UCS-2. */
export function chooseEncoding(text: string, options: ChooseEncodingOptions = {}): EncodingChoice {
  let septets = 0;
  for (let i = 0; i < text.length; i++) {
    const cost = gsm7CharSeptets(text.charCodeAt(i));
    if (cost === 0) {
      if (options.allowLatin1 && isLatin1Encodable(text)) {
        return { encoding: 'latin1', dataCoding: DataCoding.LATIN1, units: text.length };
      }
      return { encoding: 'ucs2', dataCoding: DataCoding.UCS2, units: text.length };
    }
    septets += cost;
  }
  return { encoding: 'gsm7', dataCoding: DataCoding.SMSC_DEFAULT, units: septets };
}

/** Options for encodeText. */
export interface EncodeTextOptions {
  /** Bit-pack GSM 7-bit (7 spare bits at the end hold CR); default false, one septet per octet. */
  gsm7Packed?: boolean;
}

/** True for a data_coding in the GSM message-class group 0xF0-0xFF. */
function isClassGroup(dataCoding: number): boolean {
  return dataCoding >= 0xf0 && dataCoding <= 0xff;
}

/** True when decodeText reads this data_coding as GSM 7-bit (0, 0xC0-0xDF, 0xF0-0xFF with bit 2 clear). */
export function isGsm7DataCoding(dataCoding: number): boolean {
  return (
    dataCoding === DataCoding.SMSC_DEFAULT ||
    (dataCoding >= 0xc0 && dataCoding <= 0xdf) ||
    (isClassGroup(dataCoding) && (dataCoding & 0x04) === 0)
  );
}

/**
 * Encodes text for a data_coding: 0 GSM 7-bit, 1 ASCII, 2/4 octets (U+0000-U+00FF), 3 Latin-1, 8 UCS-2,
 * 0xF0-0xFF by bit 2 (GSM 7-bit or octets). Throws UnencodableCharError, or SmppError for another data_coding.
 */
export function encodeText(text: string, dataCoding: number, options: EncodeTextOptions = {}): Buffer {
  const gsm = (): Buffer => {
    const septets = encodeGsm7(text);
    return options.gsm7Packed ? packSeptets(septets, 0, { crPadding: true }) : septets;
  };
  switch (dataCoding) {
    case DataCoding.SMSC_DEFAULT:
      return gsm();
    case DataCoding.IA5:
      return encodeSingleByte(text, 0x7f, 'ASCII');
    case DataCoding.BINARY:
    case DataCoding.BINARY_2:
      return encodeSingleByte(text, 0xff, 'octets');
    case DataCoding.LATIN1:
      return encodeLatin1(text);
    case DataCoding.UCS2:
      return encodeUcs2(text);
  }
  if (isClassGroup(dataCoding)) return dataCoding & 0x04 ? encodeSingleByte(text, 0xff, 'octets') : gsm();
  throw new SmppError(ErrorCode.Text, `cannot encode text for data_coding 0x${dataCoding.toString(16)}`);
}

/** Options for decodeText. */
export interface DecodeTextOptions {
  /** GSM 7-bit octets are bit-packed (default false: one septet per octet). */
  gsm7Packed?: boolean;
  /** Septets in a packed GSM payload; without it every whole septet is read (see unpackAllSeptets). */
  septetCount?: number;
  /** Padding bits before the first packed septet (after a UDH). Default 0. */
  fillBits?: number;
}

/** The text of a short_message and how it was read. */
export interface DecodedText {
  text: string;
  encoding: DecodedEncoding;
  /** True when the data_coding is not one this module decodes, so the octets were read as Latin-1. */
  latin1Fallback: boolean;
  /** The original octets for binary data_coding (2, 4, 0xF4-0xF7, 0xFC-0xFF); `text` is then Latin-1. */
  binary?: Buffer;
  /** Message class 0-3 from a 0xF0-0xFF data_coding. */
  messageClass?: 0 | 1 | 2 | 3;
}

function decodeGsm(buf: Uint8Array, options: DecodeTextOptions): string {
  if (!options.gsm7Packed) return decodeGsm7(buf);
  const fillBits = options.fillBits ?? 0;
  const septets =
    options.septetCount === undefined
      ? unpackAllSeptets(buf, fillBits)
      : unpackSeptets(buf, options.septetCount, fillBits);
  return decodeGsm7(septets);
}

function asBuffer(buf: Uint8Array): Buffer {
  return Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * Decodes short_message octets by data_coding: 0 GSM (unpacked unless told), 1 ASCII, 2/4 binary, 3 Latin-1,
 * 8 UCS-2, 0xC0-0xDF GSM (message waiting groups), 0xE0-0xEF UCS-2, 0xF0-0xFF GSM or binary by bit 2.
 * Anything else decodes as Latin-1 with `latin1Fallback` set. Only invalid packed-GSM options throw.
 */
export function decodeText(
  buf: Uint8Array,
  dataCoding: number,
  options: DecodeTextOptions = {},
): DecodedText {
  const binary = (): DecodedText => {
    const octets = asBuffer(buf);
    return { text: octets.toString('latin1'), encoding: 'binary', latin1Fallback: false, binary: octets };
  };
  switch (dataCoding) {
    case DataCoding.SMSC_DEFAULT:
      return { text: decodeGsm(buf, options), encoding: 'gsm7', latin1Fallback: false };
    case DataCoding.IA5:
      // ASCII is a subset of Latin-1; octets above 0x7F from a sloppy peer survive as their Latin-1 characters.
      return { text: decodeLatin1(buf), encoding: 'ascii', latin1Fallback: false };
    case DataCoding.BINARY:
    case DataCoding.BINARY_2:
      return binary();
    case DataCoding.LATIN1:
      return { text: decodeLatin1(buf), encoding: 'latin1', latin1Fallback: false };
    case DataCoding.UCS2:
      return { text: decodeUcs2(buf), encoding: 'ucs2', latin1Fallback: false };
  }
  if (isClassGroup(dataCoding)) {
    const messageClass = (dataCoding & 0x03) as 0 | 1 | 2 | 3;
    if (dataCoding & 0x04) return { ...binary(), messageClass };
    return { text: decodeGsm(buf, options), encoding: 'gsm7', latin1Fallback: false, messageClass };
  }
  // Message waiting indication groups (3GPP 23.038): 0xC0-0xDF carry GSM 7-bit text, 0xE0-0xEF UCS-2.
  if (dataCoding >= 0xc0 && dataCoding <= 0xdf) {
    return { text: decodeGsm(buf, options), encoding: 'gsm7', latin1Fallback: false };
  }
  if (dataCoding >= 0xe0 && dataCoding <= 0xef) {
    return { text: decodeUcs2(buf), encoding: 'ucs2', latin1Fallback: false };
  }
  return { text: decodeLatin1(buf), encoding: 'latin1', latin1Fallback: true };
}
