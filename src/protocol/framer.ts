/**
 * Incremental framing: push socket chunks, pull whole PDUs. Framing is by command_length
 * only (reference §1.2), bounded by 16 ≤ command_length ≤ maxPduLength. A length outside the
 * bounds means the byte stream can no longer be trusted: the framer stops and reports an
 * unrecoverable SmppDecodeError whose message shows the first bytes (HTTP on an SMPP port is
 * obvious from the log).
 */
import { DEFAULT_MAX_PDU_LENGTH, HEADER_LENGTH } from './constants.js';
import { describeBadLength, type PduHeader, previewBytes, SmppDecodeError } from './errors.js';

const ESME_RINVCMDLEN = 0x02;

export type FrameResult = { ok: true; frame: Buffer } | { ok: false; error: SmppDecodeError };

export interface FramerOptions {
  maxPduLength?: number;
}

export class Framer {
  readonly maxPduLength: number;
  private buf: Buffer | null = null;
  private off = 0;
  /** Chunks that arrived after `buf`, joined only once a whole frame is there (no O(n²) on slow writers). */
  private extra: Buffer[] = [];
  private extraLength = 0;
  private failed: SmppDecodeError | null = null;

  constructor(options: FramerOptions = {}) {
    this.maxPduLength = options.maxPduLength ?? DEFAULT_MAX_PDU_LENGTH;
  }

  /** Octets held that are not yet a whole frame. */
  get buffered(): number {
    return (this.buf ? this.buf.length - this.off : 0) + this.extraLength;
  }

  /** True once framing was lost; the connection must close. */
  get broken(): boolean {
    return this.failed !== null;
  }

  /** Adds bytes from the socket. Keeps a reference to `chunk` (no copy) until its frames are taken. */
  push(chunk: Buffer): void {
    if (this.failed || chunk.length === 0) return;
    if (this.buf === null || this.off >= this.buf.length) {
      this.buf = chunk;
      this.off = 0;
    } else {
      this.extra.push(chunk);
      this.extraLength += chunk.length;
    }
  }

  private join(): Buffer {
    const joined = Buffer.concat([this.buf!.subarray(this.off), ...this.extra]);
    this.buf = joined;
    this.off = 0;
    this.extra = [];
    this.extraLength = 0;
    return joined;
  }

  /**
   * The next whole frame, an unrecoverable error, or undefined when more bytes are needed.
   * After an error every call returns the same error.
   */
  next(): FrameResult | undefined {
    if (this.failed) return { ok: false, error: this.failed };
    let buf = this.buf;
    if (buf === null) return undefined;
    let available = buf.length - this.off;
    if (available < HEADER_LENGTH && this.extraLength > 0) {
      buf = this.join();
      available = buf.length;
    }
    if (available < 4) {
      if (available === 0) this.buf = null;
      return undefined;
    }
    const length = buf.readUInt32BE(this.off);
    if (length < HEADER_LENGTH || length > this.maxPduLength) {
      const head = buf.subarray(this.off);
      const header: PduHeader | undefined =
        head.length >= HEADER_LENGTH
          ? {
              command_length: length,
              command_id: head.readUInt32BE(4),
              command_status: head.readUInt32BE(8),
              sequence_number: head.readUInt32BE(12),
            }
          : undefined;
      this.failed = new SmppDecodeError(
        `command_length ${length} (0x${length.toString(16).padStart(8, '0')}) is outside ${HEADER_LENGTH}..${this.maxPduLength}${describeBadLength(head)}; first bytes ${previewBytes(head)}`,
        { recoverable: false, commandStatus: ESME_RINVCMDLEN, ...(header ? { header } : {}) },
      );
      this.reset();
      return { ok: false, error: this.failed };
    }
    if (available < length) {
      if (available + this.extraLength < length) return undefined;
      buf = this.join();
    }
    const frame = buf.subarray(this.off, this.off + length);
    this.off += length;
    if (this.off === buf.length) {
      this.off = 0;
      if (this.extra.length === 0) this.buf = null;
      else {
        this.buf = this.extra.length === 1 ? this.extra[0]! : Buffer.concat(this.extra);
        this.extra = [];
        this.extraLength = 0;
      }
    }
    return { ok: true, frame };
  }

  /** Drops everything held (the connection is closing). */
  reset(): void {
    this.buf = null;
    this.off = 0;
    this.extra = [];
    this.extraLength = 0;
  }
}
