/**
 * GSM 03.38 default alphabet and extension table (reference §9.1, §9.2, §9.3).
 *
 * On the SMPP wire GSM text is sent unpacked by default: one septet value per octet, with an extension
 * character written as the pair `ESC` (0x1B) + code. Bit-packing is available for SMSCs that ask for it.
 * Lookup tables are built once at module load; encoding and decoding are table lookups, no regex.
 */
import { ErrorCode, SmppError } from '../errors.js';

/** The escape septet that selects the extension table for the next septet. */
const ESC = 0x1b;

// Default alphabet, indexed by septet value (§9.1). Position 0x1B (ESC) holds a placeholder that is never
// matched when encoding and never emitted when decoding.
const BASIC =
  '@£$¥èéùìòÇ\nØø\rÅå' +
  'Δ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ' +
  ' !"#¤%&\'()*+,-./' +
  '0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNO' +
  'PQRSTUVWXYZÄÖÑÜ§' +
  '¿abcdefghijklmno' +
  'pqrstuvwxyzäöñüà';

// Extension table (§9.2): code after ESC -> character.
const EXTENSION: ReadonlyArray<readonly [number, string]> = [
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

/** Septet value -> UTF-16 code unit for the default alphabet. */
const DECODE_BASIC = new Uint16Array(128);
/** Code after ESC -> UTF-16 code unit, 0 when the pair is not defined. */
const DECODE_EXTENSION = new Uint16Array(128);

// Encode entries: 0 = not encodable; BASIC_FLAG | septet; EXTENSION_FLAG | code after ESC.
const BASIC_FLAG = 0x100;
const EXTENSION_FLAG = 0x200;
const LOW_LIMIT = 0x400; // every table character except € is below U+0400
const ENCODE_LOW = new Uint16Array(LOW_LIMIT);
const ENCODE_HIGH = new Map<number, number>();

function setEncode(code: number, entry: number): void {
  if (code < LOW_LIMIT) ENCODE_LOW[code] = entry;
  else ENCODE_HIGH.set(code, entry);
}

for (let septet = 0; septet < 128; septet++) {
  const code = BASIC.charCodeAt(septet);
  DECODE_BASIC[septet] = code;
  if (septet !== ESC) setEncode(code, BASIC_FLAG | septet);
}
for (const [septet, char] of EXTENSION) {
  const code = char.charCodeAt(0);
  DECODE_EXTENSION[septet] = code;
  setEncode(code, EXTENSION_FLAG | septet);
}

/** Table entry for a UTF-16 code unit: 0, BASIC_FLAG | septet, or EXTENSION_FLAG | code. */
function lookup(code: number): number {
  return code < LOW_LIMIT ? (ENCODE_LOW[code] ?? 0) : (ENCODE_HIGH.get(code) ?? 0);
}

/** Septets one UTF-16 code unit costs in GSM 7-bit: 1, 2 (extension table) or 0 when not encodable. */
export function gsm7CharSeptets(code: number): 0 | 1 | 2 {
  const entry = lookup(code);
  return entry === 0 ? 0 : entry & EXTENSION_FLAG ? 2 : 1;
}

/** Thrown when a character has no representation in the chosen alphabet. */
export class UnencodableCharError extends SmppError {
  readonly encoding: string;
  /** UTF-16 index of the character in the input text. */
  readonly index: number;
  readonly char: string;

  constructor(encoding: string, text: string, index: number) {
    const code = text.codePointAt(index) ?? 0;
    const char = String.fromCodePoint(code);
    const hex = code.toString(16).toUpperCase().padStart(4, '0');
    super(ErrorCode.Text, `character U+${hex} at index ${index} cannot be encoded as ${encoding}`);
    this.encoding = encoding;
    this.index = index;
    this.char = char;
  }
}

/** Number of septets text needs (extension characters count 2), or -1 when a character is not encodable. */
function countSeptets(text: string): number {
  let septets = 0;
  for (let i = 0; i < text.length; i++) {
    const entry = lookup(text.charCodeAt(i));
    if (entry === 0) return -1 - i;
    septets += entry & EXTENSION_FLAG ? 2 : 1;
  }
  return septets;
}

/** Septets text occupies in GSM 7-bit (extension characters count 2); throws UnencodableCharError. */
export function gsm7SeptetCount(text: string): number {
  const count = countSeptets(text);
  if (count < 0) throw new UnencodableCharError('GSM 7-bit', text, -1 - count);
  return count;
}

/** True when every character of text is in the GSM default alphabet or its extension table. */
export function isGsm7Encodable(text: string): boolean {
  return countSeptets(text) >= 0;
}

/** Encodes text as unpacked GSM 7-bit (one septet per octet, ESC pairs); throws UnencodableCharError. */
export function encodeGsm7(text: string): Buffer {
  const out = Buffer.allocUnsafe(gsm7SeptetCount(text));
  let at = 0;
  for (let i = 0; i < text.length; i++) {
    const entry = lookup(text.charCodeAt(i));
    if (entry & EXTENSION_FLAG) out[at++] = ESC;
    out[at++] = entry & 0x7f;
  }
  return out;
}

/**
 * Decodes unpacked GSM 7-bit (one septet per octet). An undefined ESC pair yields the base-table character
 * (§9.2 Rec.), ESC ESC yields a space (3GPP 23.038), a trailing lone ESC is ignored, and an octet above
 * 0x7F (not a septet) yields U+FFFD.
 */
export function decodeGsm7(buf: Uint8Array): string {
  // UTF-16LE written byte by byte (endian-independent), turned into a string by one native call.
  const out = Buffer.allocUnsafe(buf.length * 2);
  let at = 0;
  for (let i = 0; i < buf.length; i++) {
    const septet = buf[i]!;
    let code: number;
    if (septet > 0x7f) {
      code = 0xfffd;
    } else if (septet !== ESC) {
      code = DECODE_BASIC[septet]!;
    } else if (i + 1 < buf.length) {
      const next = buf[++i]!;
      if (next > 0x7f) code = 0xfffd;
      else if (next === ESC) code = 0x20;
      else code = DECODE_EXTENSION[next] || DECODE_BASIC[next]!;
    } else {
      break;
    }
    out[at++] = code & 0xff;
    out[at++] = code >> 8;
  }
  return out.toString('utf16le', 0, at);
}

function checkFillBits(fillBits: number): void {
  if (!Number.isInteger(fillBits) || fillBits < 0 || fillBits > 6) {
    throw new SmppError(ErrorCode.Text, `fillBits must be an integer 0-6, got ${fillBits}`);
  }
}

/** Options for packSeptets. */
export interface PackOptions {
  /**
   * When the last octet would end in 7 spare bits, fill them with CR (3GPP 23.038 §6.1.2.3.1), so a reader
   * that counts septets from the octet length sees CR instead of a phantom `@`. Default false (zero bits).
   */
  crPadding?: boolean;
}

/** Carriage return, the 23.038 filler for 7 spare bits. */
const CR = 0x0d;

/**
 * Packs septet values (one per octet, each <= 0x7F) into the GSM bit stream, least significant bit
 * first, after `fillBits` zero bits (the padding that aligns septets after a UDH).
 */
export function packSeptets(septets: Uint8Array, fillBits = 0, options: PackOptions = {}): Buffer {
  checkFillBits(fillBits);
  const bits = fillBits + septets.length * 7;
  const out = Buffer.alloc(Math.ceil(bits / 8));
  if (options.crPadding && bits % 8 === 1) out[out.length - 1] = CR << 1;
  let bit = fillBits;
  for (let i = 0; i < septets.length; i++, bit += 7) {
    const septet = septets[i]!;
    if (septet > 0x7f) {
      throw new SmppError(ErrorCode.Text, `octet 0x${septet.toString(16)} at index ${i} is not a septet`);
    }
    const byte = bit >> 3;
    const shift = bit & 7;
    out[byte]! |= (septet << shift) & 0xff;
    if (shift > 1) out[byte + 1]! |= septet >> (8 - shift);
  }
  return out;
}

/** Unpacks `septetCount` septets from a packed GSM bit stream that starts after `fillBits` padding bits. */
export function unpackSeptets(packed: Uint8Array, septetCount: number, fillBits = 0): Buffer {
  checkFillBits(fillBits);
  if (!Number.isInteger(septetCount) || septetCount < 0 || fillBits + septetCount * 7 > packed.length * 8) {
    throw new SmppError(
      ErrorCode.Text,
      `cannot unpack ${septetCount} septets after ${fillBits} fill bits from ${packed.length} octets`,
    );
  }
  const out = Buffer.allocUnsafe(septetCount);
  let bit = fillBits;
  for (let i = 0; i < septetCount; i++, bit += 7) {
    const byte = bit >> 3;
    const shift = bit & 7;
    let value = packed[byte]! >> shift;
    if (shift > 1) value |= packed[byte + 1]! << (8 - shift);
    out[i] = value & 0x7f;
  }
  return out;
}

/** Options for unpackAllSeptets. */
export interface UnpackAllOptions {
  /** Also drop a final `@` (zero bits) in the padding position, not only a CR. Default true. */
  dropZeroPadding?: boolean;
}

/**
 * Unpacks every whole septet of a packed stream whose septet count is unknown (sm_length counts octets).
 * When the last 7 bits could be padding, a final CR there (the 23.038 filler) is dropped, and so is a final
 * `@` (zero-bit padding) unless `dropZeroPadding` is false. A text that really ends in CR or `@` at exactly
 * that position loses it: pass a count to unpackSeptets when one is known.
 */
export function unpackAllSeptets(packed: Uint8Array, fillBits = 0, options: UnpackAllOptions = {}): Buffer {
  checkFillBits(fillBits);
  const bits = packed.length * 8 - fillBits;
  if (bits < 7) return Buffer.alloc(0);
  let count = Math.floor(bits / 7);
  const septets = unpackSeptets(packed, count, fillBits);
  const last = septets[count - 1];
  // Only 7 spare bits can hold a whole phantom septet; then the bit count is an exact multiple of 7.
  if (bits % 7 === 0 && (last === CR || (last === 0 && (options.dropZeroPadding ?? true)))) count--;
  return septets.subarray(0, count);
}
