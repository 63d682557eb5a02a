/**
 * UCS-2 for data_coding 8 (reference §8.6, §14): UTF-16 big-endian on the wire. Characters outside the
 * BMP travel as surrogate pairs, which both directions keep as they are (so does a lone surrogate).
 */

/** Encodes text as UTF-16BE, two octets per UTF-16 code unit, surrogate pairs preserved. */
export function encodeUcs2(text: string): Buffer {
  return Buffer.from(text, 'utf16le').swap16();
}

/** Decodes UTF-16BE octets; an odd trailing octet is ignored. The input buffer is not modified. */
export function decodeUcs2(buf: Uint8Array): string {
  const even = buf.length & ~1;
  // Buffer.from(Uint8Array) copies, so swapping never touches the caller's bytes.
  return Buffer.from(buf.subarray(0, even)).swap16().toString('utf16le');
}
