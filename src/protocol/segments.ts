/**
 * Long messages: splitting outbound text into parts (concatenation UDH, SAR TLVs or one message_payload)
 * and reassembling inbound parts (reference §8.7, §9.4, §9.5, §9.6). Pure: the clock is injected.
 */
import { ErrorCode, SmppError } from '../errors.js';
import { EsmClass, TlvTag } from './constants.js';
import { encodeGsm7, gsm7CharSeptets, gsm7SeptetCount, packSeptets, unpackAllSeptets } from './gsm7.js';
import type { DecodedText, EncodingChoice, TextEncoding } from './text.js';
import { chooseEncoding, decodeText, encodeLatin1, isGsm7DataCoding } from './text.js';
import { encodeUcs2 } from './ucs2.js';

/** Most parts one message may have: the UDH and SAR counters are one octet (§9.4). */
export const MAX_SEGMENTS = 255;

/** How to pick the alphabet: `auto` = GSM 7-bit, else Latin-1 if allowed, else UCS-2. */
export type SplitEncoding = 'auto' | TextEncoding;

/** How parts are tied together: 8- or 16-bit reference UDH, SAR TLVs, or one message_payload (SMSC splits). */
export type SplitMethod = 'udh8' | 'udh16' | 'sar' | 'payload';

/** Options shared by splitText and countSegments. */
export interface SegmentOptions {
  /** Default `auto`. An explicit alphabet that cannot encode the text throws UnencodableCharError. */
  encoding?: SplitEncoding;
  /** With `auto`, allow Latin-1 (data_coding 3) for non-GSM text that fits it. Default false. */
  allowLatin1?: boolean;
}

/** Options for splitText. */
export interface SplitOptions extends SegmentOptions {
  method: SplitMethod;
  /** Concatenation reference: 0-255 for udh8, 0-65535 for udh16 and sar. Unused by payload. */
  reference: number;
  /** Bit-pack GSM 7-bit text (aligned after the UDH with fill bits; 7 spare bits hold CR). Default false. */
  gsm7Packed?: boolean;
}

/** Options for countSegments. */
export interface CountOptions extends SegmentOptions {
  /** Default udh8. `payload` is counted as udh8: what the SMSC will bill when it splits the payload. */
  method?: SplitMethod;
}

/** A numeric TLV for the PDU encoder. */
export interface SegmentTlv {
  tag: number;
  value: number;
}

/** One submit_sm worth of a message. */
export interface MessagePart {
  /** UDH (udh methods, multi-part only) followed by the encoded text; empty for the payload method. */
  short_message: Buffer;
  /** The whole encoded text, only for the payload method (then short_message is empty, sm_length 0). */
  message_payload?: Buffer;
  /** OR this into esm_class: 0x40 (UDHI) when short_message starts with a UDH, else 0. */
  esm_class_flags: number;
  data_coding: number;
  /** sar_msg_ref_num, sar_total_segments, sar_segment_seqnum for the sar method; else empty. */
  tlvs: SegmentTlv[];
}

/** The size of a text as SMS segments, for previewing cost. */
export interface SegmentCount {
  encoding: TextEncoding;
  dataCoding: number;
  /** Septets (gsm7), octets (latin1) or UTF-16 code units (ucs2). */
  units: number;
  segments: number;
  /** Capacity of each segment in units: the single-message size when segments is 1. */
  perSegment: number;
}

/** Thrown when a text needs more than MAX_SEGMENTS parts. */
export class TooManySegmentsError extends SmppError {
  readonly segments: number;

  constructor(segments: number) {
    super(ErrorCode.Text, `message needs ${segments} segments; at most ${MAX_SEGMENTS} are possible`);
    this.segments = segments;
  }
}

/** A malformed user data header; returned (not thrown) by parseUdh and reported by Reassembler.accept. */
export class SegmentDecodeError extends SmppError {
  constructor(message: string) {
    super(ErrorCode.DecodeBody, message);
  }
}

interface Capacity {
  single: number;
  udh8: number;
  udh16: number;
}

// §9.4: single message, per part with a 6-octet UDH (and SAR, §9.6), per part with a 7-octet UDH.
const CAPACITY: Record<TextEncoding, Capacity> = {
  gsm7: { single: 160, udh8: 153, udh16: 152 },
  latin1: { single: 140, udh8: 134, udh16: 133 },
  ucs2: { single: 70, udh8: 67, udh16: 66 },
};

const DATA_CODING: Record<TextEncoding, number> = { gsm7: 0x00, latin1: 0x03, ucs2: 0x08 };

function resolveEncoding(text: string, options: SegmentOptions): EncodingChoice {
  switch (options.encoding ?? 'auto') {
    case 'auto':
      return chooseEncoding(text, { allowLatin1: options.allowLatin1 ?? false });
    case 'gsm7':
      return { encoding: 'gsm7', dataCoding: 0, units: gsm7SeptetCount(text) };
    case 'latin1':
      encodeLatin1(text); // throws on the first character above U+00FF
      return { encoding: 'latin1', dataCoding: 3, units: text.length };
    case 'ucs2':
      return { encoding: 'ucs2', dataCoding: 8, units: text.length };
    default:
      throw new SmppError(ErrorCode.Text, `unknown encoding ${String(options.encoding)}`);
  }
}

function isSurrogatePair(text: string, i: number): boolean {
  const high = text.charCodeAt(i);
  if (high < 0xd800 || high > 0xdbff || i + 1 >= text.length) return false;
  const low = text.charCodeAt(i + 1);
  return low >= 0xdc00 && low <= 0xdfff;
}

/**
 * Start indices of each part when text (already known to be encodable) is cut into parts of `perPart`
 * units. An extension character (ESC pair) or a surrogate pair is never cut: it moves to the next part.
 */
function partStarts(text: string, encoding: TextEncoding, perPart: number): number[] {
  const starts = [0];
  let used = 0;
  for (let i = 0; i < text.length; ) {
    let units = 1;
    let chars = 1;
    if (encoding === 'gsm7') units = gsm7CharSeptets(text.charCodeAt(i));
    else if (encoding === 'ucs2' && isSurrogatePair(text, i)) units = chars = 2;
    if (used + units > perPart) {
      starts.push(i);
      used = 0;
    }
    used += units;
    i += chars;
  }
  return starts;
}

function multiPartCapacity(encoding: TextEncoding, method: SplitMethod): number {
  return method === 'udh16' ? CAPACITY[encoding].udh16 : CAPACITY[encoding].udh8;
}

/** Counts the segments a text needs with the same rules splitText applies; does not cap at MAX_SEGMENTS. */
export function countSegments(text: string, options: CountOptions = {}): SegmentCount {
  const choice = resolveEncoding(text, options);
  const base = { encoding: choice.encoding, dataCoding: choice.dataCoding, units: choice.units };
  const single = CAPACITY[choice.encoding].single;
  if (choice.units <= single) return { ...base, segments: 1, perSegment: single };
  const perSegment = multiPartCapacity(choice.encoding, options.method ?? 'udh8');
  return { ...base, segments: partStarts(text, choice.encoding, perSegment).length, perSegment };
}

function checkReference(method: SplitMethod, reference: number): void {
  if (method === 'payload') return;
  const max = method === 'udh8' ? 0xff : 0xffff;
  if (!Number.isInteger(reference) || reference < 0 || reference > max) {
    throw new SmppError(
      ErrorCode.Text,
      `reference for ${method} must be an integer 0-${max}, got ${reference}`,
    );
  }
}

/** Fill bits that align the first septet after a UDH of `udhOctets` octets to a septet boundary. */
function fillBitsAfter(udhOctets: number): number {
  return (7 - ((udhOctets * 8) % 7)) % 7;
}

function encodeBody(text: string, encoding: TextEncoding, packed: boolean, fillBits: number): Buffer {
  if (encoding === 'ucs2') return encodeUcs2(text);
  if (encoding === 'latin1') return encodeLatin1(text);
  const septets = encodeGsm7(text);
  return packed ? packSeptets(septets, fillBits, { crPadding: true }) : septets;
}

function concatUdh(method: 'udh8' | 'udh16', reference: number, total: number, seq: number): Buffer {
  return method === 'udh8'
    ? Buffer.from([0x05, 0x00, 0x03, reference, total, seq])
    : Buffer.from([0x06, 0x08, 0x04, reference >> 8, reference & 0xff, total, seq]);
}

/**
 * Splits text into submit_sm parts (§9.4-§9.6). A text that fits one message gives one plain part.
 * Throws UnencodableCharError, TooManySegmentsError, or SmppError for a bad reference.
 */
export function splitText(text: string, options: SplitOptions): MessagePart[] {
  const { method, reference } = options;
  checkReference(method, reference);
  const choice = resolveEncoding(text, options);
  const { encoding } = choice;
  const data_coding = DATA_CODING[encoding];
  const packed = options.gsm7Packed ?? false;
  if (method === 'payload') {
    const message_payload = encodeBody(text, encoding, packed, 0);
    return [{ short_message: Buffer.alloc(0), message_payload, esm_class_flags: 0, data_coding, tlvs: [] }];
  }
  if (choice.units <= CAPACITY[encoding].single) {
    return [
      { short_message: encodeBody(text, encoding, packed, 0), esm_class_flags: 0, data_coding, tlvs: [] },
    ];
  }
  const starts = partStarts(text, encoding, multiPartCapacity(encoding, method));
  const total = starts.length;
  if (total > MAX_SEGMENTS) throw new TooManySegmentsError(total);
  const parts: MessagePart[] = [];
  for (let k = 0; k < total; k++) {
    const seq = k + 1;
    const slice = text.slice(starts[k], starts[k + 1] ?? text.length);
    if (method === 'sar') {
      const tlvs = [
        { tag: TlvTag.sar_msg_ref_num, value: reference },
        { tag: TlvTag.sar_total_segments, value: total },
        { tag: TlvTag.sar_segment_seqnum, value: seq },
      ];
      parts.push({
        short_message: encodeBody(slice, encoding, packed, 0),
        esm_class_flags: 0,
        data_coding,
        tlvs,
      });
    } else {
      const udh = concatUdh(method, reference, total, seq);
      const body = encodeBody(slice, encoding, packed, fillBitsAfter(udh.length));
      parts.push({
        short_message: Buffer.concat([udh, body]),
        esm_class_flags: EsmClass.UDHI,
        data_coding,
        tlvs: [],
      });
    }
  }
  return parts;
}

/** One information element of a user data header; `data` is a view into the parsed buffer. */
export interface UdhElement {
  iei: number;
  data: Buffer;
}

/** The concatenation element of a UDH (IEI 0x00 with an 8-bit reference, 0x08 with a 16-bit one). */
export interface ConcatInfo {
  reference: number;
  total: number;
  /** This part, 1-based. */
  seq: number;
  referenceBits: 8 | 16;
}

/** A parsed user data header. */
export interface ParsedUdh {
  elements: UdhElement[];
  /** Present when a valid concatenation element was found (the last one wins, as 3GPP 23.040 says). */
  concat?: ConcatInfo;
  /** Where the message text starts: UDHL + 1. */
  payloadOffset: number;
}

function readConcat(iei: number, data: Buffer): ConcatInfo | undefined {
  let info: ConcatInfo;
  if (iei === 0x00 && data.length === 3) {
    info = { reference: data[0]!, total: data[1]!, seq: data[2]!, referenceBits: 8 };
  } else if (iei === 0x08 && data.length === 4) {
    info = { reference: data.readUInt16BE(0), total: data[2]!, seq: data[3]!, referenceBits: 16 };
  } else {
    return undefined;
  }
  // 3GPP 23.040: a zero count, or a sequence number of zero or above the count, voids the element.
  return info.total === 0 || info.seq === 0 || info.seq > info.total ? undefined : info;
}

/**
 * Parses the user data header at the start of a short_message (or message_payload) sent with UDHI set.
 * Returns a SegmentDecodeError when the header is truncated; a void concatenation element is ignored.
 */
export function parseUdh(shortMessage: Uint8Array): ParsedUdh | SegmentDecodeError {
  const buf = Buffer.isBuffer(shortMessage)
    ? shortMessage
    : Buffer.from(shortMessage.buffer, shortMessage.byteOffset, shortMessage.byteLength);
  if (buf.length === 0) return new SegmentDecodeError('UDHI is set but the message is empty');
  const end = 1 + buf[0]!;
  if (end > buf.length) {
    return new SegmentDecodeError(`UDH length ${buf[0]} exceeds the ${buf.length - 1} octets that follow`);
  }
  const elements: UdhElement[] = [];
  let concat: ConcatInfo | undefined;
  for (let at = 1; at < end; ) {
    if (at + 2 > end) return new SegmentDecodeError(`UDH element header at offset ${at} is truncated`);
    const iei = buf[at]!;
    const length = buf[at + 1]!;
    const dataEnd = at + 2 + length;
    if (dataEnd > end) {
      return new SegmentDecodeError(`UDH element 0x${iei.toString(16)} at offset ${at} overruns the header`);
    }
    const data = buf.subarray(at + 2, dataEnd);
    elements.push({ iei, data });
    if (iei === 0x00 || iei === 0x08) concat = readConcat(iei, data) ?? concat;
    at = dataEnd;
  }
  return concat ? { elements, concat, payloadOffset: end } : { elements, payloadOffset: end };
}

/** The fields of an inbound deliver_sm (or data_sm) that reassembly needs. */
export interface InboundPart {
  source: string;
  destination: string;
  esm_class: number;
  data_coding: number;
  short_message: Uint8Array;
  /** Used instead of short_message when present and non-empty. */
  message_payload?: Uint8Array;
  sar_msg_ref_num?: number;
  sar_total_segments?: number;
  sar_segment_seqnum?: number;
}

/** How an inbound message was concatenated. */
export interface ConcatSet {
  method: 'udh8' | 'udh16' | 'sar';
  reference: number;
  total: number;
}

/** A whole inbound message: the joined octets after each part's UDH, and their decoded text. */
export interface AssembledMessage extends DecodedText {
  source: string;
  destination: string;
  dataCoding: number;
  /** The joined user data without UDHs (unpacked septets when the reassembler unpacks GSM). */
  payload: Buffer;
  /** Absent for a message that came in one part. */
  concat?: ConcatSet;
  /** UDH elements of the single part, or of part 1 of a concatenated message. */
  udh?: UdhElement[];
}

/** A set dropped before completion: timed out (sweep or late arrival) or evicted by maxPending. */
export interface IncompleteSet extends ConcatSet {
  source: string;
  destination: string;
  dataCoding: number;
  reason: 'expired' | 'evicted';
  /** When the first part arrived, from the injected clock. */
  firstSeenMs: number;
  /** Received parts in sequence order; payloads are the octets after the UDH. */
  parts: { seq: number; payload: Buffer }[];
}

/** What Reassembler.accept did with a part. */
export type AcceptResult =
  | { status: 'complete'; message: AssembledMessage }
  | { status: 'pending'; received: number; total: number; dropped: IncompleteSet[] }
  | { status: 'duplicate'; received: number; total: number }
  | { status: 'invalid'; error: SegmentDecodeError };

/** Options for Reassembler. */
export interface ReassemblerOptions {
  /** An incomplete set expires this long after its first part arrived. */
  timeoutMs: number;
  /** Most incomplete sets kept; beyond it the oldest is evicted. Default 1000. */
  maxPending?: number;
  /** The clock, in milliseconds. */
  now: () => number;
  /** GSM 7-bit parts are bit-packed (septets aligned after the UDH). Default false. */
  gsm7Packed?: boolean;
}

interface PendingSet extends ConcatSet {
  source: string;
  destination: string;
  dataCoding: number;
  firstSeenMs: number;
  payloads: Map<number, Buffer>;
  udh?: UdhElement[];
}

/**
 * Joins inbound parts of concatenated messages (UDH with UDHI set, or SAR TLVs), keyed by
 * (source, destination, method, reference, total). Parts may arrive in any order; duplicates are ignored.
 * Holds no timers: call sweep() periodically to collect sets that timed out.
 */
export class Reassembler {
  private readonly pending = new Map<string, PendingSet>();
  private readonly timeoutMs: number;
  private readonly maxPending: number;
  private readonly now: () => number;
  private readonly gsm7Packed: boolean;

  constructor(options: ReassemblerOptions) {
    const { timeoutMs, maxPending = 1000 } = options;
    if (!(timeoutMs > 0)) throw new SmppError(ErrorCode.Text, `timeoutMs must be positive, got ${timeoutMs}`);
    if (!Number.isInteger(maxPending) || maxPending < 1) {
      throw new SmppError(ErrorCode.Text, `maxPending must be a positive integer, got ${maxPending}`);
    }
    this.timeoutMs = timeoutMs;
    this.maxPending = maxPending;
    this.now = options.now;
    this.gsm7Packed = options.gsm7Packed ?? false;
  }

  /** Number of incomplete sets held. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Takes one inbound part; returns the whole message once every part of its set has arrived. */
  accept(part: InboundPart): AcceptResult {
    const data =
      part.message_payload && part.message_payload.length > 0 ? part.message_payload : part.short_message;
    let offset = 0;
    let udh: UdhElement[] | undefined;
    let concat: (ConcatSet & { seq: number }) | undefined;
    if (part.esm_class & EsmClass.UDHI) {
      const parsed = parseUdh(data);
      if (parsed instanceof SegmentDecodeError) return { status: 'invalid', error: parsed };
      offset = parsed.payloadOffset;
      udh = parsed.elements;
      if (parsed.concat) {
        const { reference, total, seq, referenceBits } = parsed.concat;
        concat = { method: referenceBits === 8 ? 'udh8' : 'udh16', reference, total, seq };
      }
    }
    concat ??= sarOf(part);
    const payload = this.payloadOf(data, offset, part.data_coding, !concat || concat.seq === concat.total);
    if (!concat || concat.total === 1) {
      const message = this.assemble(part.source, part.destination, part.data_coding, payload, udh);
      if (concat) message.concat = { method: concat.method, reference: concat.reference, total: 1 };
      return { status: 'complete', message };
    }

    const now = this.now();
    const key = [part.source, part.destination, concat.method, concat.reference, concat.total].join('\u0000');
    const dropped: IncompleteSet[] = [];
    let set = this.pending.get(key);
    if (set && now - set.firstSeenMs >= this.timeoutMs) {
      this.pending.delete(key);
      dropped.push(incomplete(set, 'expired'));
      set = undefined;
    }
    if (!set) {
      for (const [oldestKey, oldest] of this.pending) {
        if (this.pending.size < this.maxPending) break;
        this.pending.delete(oldestKey);
        dropped.push(incomplete(oldest, 'evicted'));
      }
      set = {
        method: concat.method,
        reference: concat.reference,
        total: concat.total,
        source: part.source,
        destination: part.destination,
        dataCoding: part.data_coding,
        firstSeenMs: now,
        payloads: new Map(),
      };
      this.pending.set(key, set);
    } else if (set.payloads.has(concat.seq)) {
      return { status: 'duplicate', received: set.payloads.size, total: set.total };
    }
    set.payloads.set(concat.seq, payload);
    // Copy: a pending set must not pin (or see later changes to) the caller's PDU buffer.
    if (concat.seq === 1) set.udh = udh?.map(({ iei, data }) => ({ iei, data: Buffer.from(data) }));
    if (set.payloads.size < set.total) {
      return { status: 'pending', received: set.payloads.size, total: set.total, dropped };
    }
    this.pending.delete(key);
    const ordered: Buffer[] = [];
    for (let seq = 1; seq <= set.total; seq++) ordered.push(set.payloads.get(seq)!);
    const message = this.assemble(
      set.source,
      set.destination,
      set.dataCoding,
      Buffer.concat(ordered),
      set.udh,
    );
    message.concat = { method: set.method, reference: set.reference, total: set.total };
    return { status: 'complete', message };
  }

  /** Removes and returns the incomplete sets whose first part arrived at least timeoutMs before `now`. */
  sweep(now: number = this.now()): IncompleteSet[] {
    const expired: IncompleteSet[] = [];
    for (const [key, set] of this.pending) {
      if (now - set.firstSeenMs >= this.timeoutMs) {
        this.pending.delete(key);
        expired.push(incomplete(set, 'expired'));
      }
    }
    return expired;
  }

  /**
   * Copies the user data after the UDH. Packed GSM is unpacked here, where the fill bits are known. Any part
   * may end in 7 spare bits (a part is one septet short when an ESC pair moved on): a CR there is dropped as
   * 23.038 padding; a final `@` is dropped as zero padding only in the last part, since a full middle part
   * ending in `@` looks the same.
   */
  private payloadOf(data: Uint8Array, offset: number, dataCoding: number, last: boolean): Buffer {
    const body = Buffer.from(data.buffer, data.byteOffset + offset, data.byteLength - offset);
    if (!this.gsm7Packed || !isGsm7DataCoding(dataCoding)) return Buffer.from(body);
    const fillBits = offset === 0 ? 0 : fillBitsAfter(offset);
    return Buffer.from(unpackAllSeptets(body, fillBits, { dropZeroPadding: last }));
  }

  private assemble(
    source: string,
    destination: string,
    dataCoding: number,
    payload: Buffer,
    udh: UdhElement[] | undefined,
  ): AssembledMessage {
    const decoded = decodeText(payload, dataCoding);
    const message: AssembledMessage = { source, destination, dataCoding, payload, ...decoded };
    if (udh) message.udh = udh;
    return message;
  }
}

/** SAR TLVs, when all three are present and consistent (§9.6); otherwise the part is not concatenated. */
function sarOf(part: InboundPart): (ConcatSet & { seq: number }) | undefined {
  const { sar_msg_ref_num: reference, sar_total_segments: total, sar_segment_seqnum: seq } = part;
  if (reference === undefined || total === undefined || seq === undefined) return undefined;
  if (total < 1 || seq < 1 || seq > total) return undefined;
  return { method: 'sar', reference, total, seq };
}

function incomplete(set: PendingSet, reason: IncompleteSet['reason']): IncompleteSet {
  const parts = [...set.payloads].sort(([a], [b]) => a - b).map(([seq, payload]) => ({ seq, payload }));
  return {
    method: set.method,
    reference: set.reference,
    total: set.total,
    source: set.source,
    destination: set.destination,
    dataCoding: set.dataCoding,
    reason,
    firstSeenMs: set.firstSeenMs,
    parts,
  };
}
