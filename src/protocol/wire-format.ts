/**
 * What the two codec implementations (layout-interpreter.ts and layout-compiler.ts) share:
 * the result and option types, the limits and formats they check, and how a C-Octet String
 * is written. Pure: Buffer in, Buffer out.
 */
import type { SmppDecodeError } from './errors.js';
import type { Pdu } from './pdu.js';

/** The longest short_message we send (3.4 text); 255 is accepted on decode (reference §15 #9). */
export const MAX_SHORT_MESSAGE_LENGTH = 254;

/** An absolute or relative SMPP time: YYMMDDhhmmsstnnp (reference §8.5). */
export const TIME_PATTERN = /^\d{12}\d\d\d[+\-R]$/;

export type DecodeResult = { ok: true; pdu: Pdu } | { ok: false; error: SmppDecodeError };

export interface EncodeOptions {
  maxPduLength?: number;
}

export function isObject(v: unknown): v is object {
  return typeof v === 'object' && v !== null;
}

/** Writes a C-Octet String (already checked: Latin-1, no NUL) and its NUL; returns the next offset. */
export function writeCString(buf: Buffer, off: number, s: string): number {
  const n = s.length;
  // Short strings: a byte loop beats buf.write's call overhead. Chars were checked ≤ 0xFF.
  if (n < 24) {
    for (let i = 0; i < n; i++) buf[off + i] = s.charCodeAt(i);
  } else {
    buf.write(s, off, n, 'latin1');
  }
  buf[off + n] = 0;
  return off + n + 1;
}
