/**
 * encodePdu(pdu) → Buffer and decodePdu(frame) → DecodeResult: the codec everyone calls.
 * Each tries the compiled encoder/decoder of the command first (layout-compiler.ts) and falls
 * back to the layout interpreter (layout-interpreter.ts), which words every error. Strict on
 * what it emits (every spec violation is an SmppEncodeError naming the field), tolerant on what
 * it reads, and never reads past command_length.
 */
import { DEFAULT_MAX_PDU_LENGTH, HEADER_LENGTH } from './constants.js';
import { COMPILED_DECODERS, COMPILED_ENCODERS } from './layout-compiler.js';
import { decodePduByLayout, encodePduByLayout } from './layout-interpreter.js';
import type { Pdu } from './pdu.js';
import { type DecodeResult, type EncodeOptions, isObject } from './wire-format.js';

export { decodePduByLayout, encodePduByLayout } from './layout-interpreter.js';
export { type DecodeResult, type EncodeOptions, MAX_SHORT_MESSAGE_LENGTH } from './wire-format.js';

/** Encodes a PDU, or throws SmppEncodeError naming the first field that breaks the spec. */
export function encodePdu(pdu: Pdu, options: EncodeOptions = {}): Buffer {
  if (isObject(pdu) && typeof pdu.command === 'string') {
    const compiled = COMPILED_ENCODERS.get(pdu.command);
    if (compiled !== undefined) {
      const out = compiled(
        pdu as unknown as Record<string, unknown>,
        options.maxPduLength ?? DEFAULT_MAX_PDU_LENGTH,
      );
      if (out !== undefined) return out;
    }
  }
  return encodePduByLayout(pdu, options);
}

/**
 * Decodes one whole frame (exactly command_length bytes, as the Framer yields them).
 * Never throws: returns the PDU, a recoverable error (header readable) or an unrecoverable one.
 */
export function decodePdu(buf: Buffer): DecodeResult {
  const end = buf.length;
  if (end >= HEADER_LENGTH && buf.readUInt32BE(0) === end) {
    const entry = COMPILED_DECODERS.get(buf.readUInt32BE(4));
    if (entry?.compiled !== undefined) {
      const status = buf.readUInt32BE(8);
      if (status === 0 || !entry.response) {
        const pdu = entry.compiled(buf, end, status, buf.readUInt32BE(12));
        if (pdu !== undefined) return { ok: true, pdu };
      }
    }
  }
  return decodePduByLayout(buf);
}
