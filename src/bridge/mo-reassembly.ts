/**
 * The inbound (MO) side's reassembly as pure functions over stored parts: the store keeps every part
 * durably before the deliver_sm is acknowledged (Jasmin #531, #1257: MO acked before being stored, parts
 * lost), and asks these functions what the set it holds amounts to. The in-memory Reassembler in
 * src/protocol/segments.ts is for tools and the simulator; this is the same rules without the memory.
 *
 *   key        (route, source, destination, method, reference, total): the reference alone repeats
 *              every 256 messages, and two senders may pick the same one (reference §9.6 Rec.)
 *   concat     UDH (esm_class UDHI) with IEI 0x00 (8-bit reference) or 0x08 (16-bit), else all three
 *              SAR TLVs, else a single message. A UDH in message_payload counts the same way.
 *   complete   every part 1 … total is stored: deliver the joined text
 *   waiting    some part is missing and the set is younger than mo.reassemblyTimeoutMs (default 5 min)
 *   timed_out  the set is that old: deliver what there is with `incomplete: true` and the missing parts
 *   duplicate  a part already stored (same seq) is ignored; a whole deliver_sm seen again within the
 *              dedup window (same fingerprint) is delivered once: SMSCs redeliver when our
 *              deliver_sm_resp was lost
 *   decoding   by data_coding via src/protocol/text.ts: GSM 7-bit, Latin-1, UCS-2; binary codings are
 *              given as hex. Parts are joined before decoding, so a UCS-2 surrogate pair may straddle them.
 */
import { createHash } from 'node:crypto';
import { EsmClass, TlvTag } from '../protocol/constants.js';
import { unpackAllSeptets } from '../protocol/gsm7.js';
import { parseUdh, SegmentDecodeError, type UdhElement } from '../protocol/segments.js';
import { decodeText, isGsm7DataCoding } from '../protocol/text.js';
import { type Tlv, tlvBytes, tlvNumber } from '../protocol/tlv.js';

export const DEFAULT_REASSEMBLY_TIMEOUT_MS = 5 * 60_000;
export const DEFAULT_DEDUP_WINDOW_MS = 10 * 60_000;

/** The deliver_sm fields reassembly reads. */
export interface MoPdu {
  source_addr: string;
  destination_addr: string;
  esm_class: number;
  data_coding: number;
  short_message: Buffer;
  tlvs?: readonly Tlv[];
}

export interface MoReadOptions {
  /** GSM 7-bit octets are bit-packed (default false: one septet per octet, reference §9.3). */
  gsm7Packed?: boolean;
}

/** One part, ready to store. `payload` is the user data after the UDH (unpacked septets for packed GSM). */
export interface MoPart {
  /** The set's key; absent for a message that came in one part. */
  key?: string;
  method?: 'udh8' | 'udh16' | 'sar';
  reference?: number;
  total: number;
  seq: number;
  dataCoding: number;
  payload: Buffer;
  /** The UDH elements other than concatenation (ports, ...), from this part. */
  udh?: UdhElement[];
}

export type MoReadResult = { ok: true; part: MoPart } | { ok: false; error: SegmentDecodeError };

/** Fill bits aligning the first septet after a UDH of `udhOctets` octets (3GPP 23.040). */
function fillBitsAfter(udhOctets: number): number {
  return (7 - ((udhOctets * 8) % 7)) % 7;
}

function sar(
  tlvs: readonly Tlv[] | undefined,
): { reference: number; total: number; seq: number } | undefined {
  const reference = tlvNumber(tlvs, TlvTag.sar_msg_ref_num);
  const total = tlvNumber(tlvs, TlvTag.sar_total_segments);
  const seq = tlvNumber(tlvs, TlvTag.sar_segment_seqnum);
  if (reference === undefined || total === undefined || seq === undefined) return undefined;
  if (total < 1 || seq < 1 || seq > total) return undefined;
  return { reference, total, seq };
}

/** The set key of (route, source, destination, method, reference, total). */
export function moSetKey(
  route: string,
  source: string,
  destination: string,
  method: string,
  reference: number,
  total: number,
): string {
  return JSON.stringify([route, source, destination, method, reference, total]);
}

/**
 * Reads one deliver_sm as a part. `route` is the bind (or route) it came in on. A truncated UDH is an
 * error (answer the deliver_sm with an error status, not a crash).
 */
export function readMoPart(pdu: MoPdu, route: string, options: MoReadOptions = {}): MoReadResult {
  const payloadTlv = tlvBytes(pdu.tlvs, TlvTag.message_payload);
  const data = payloadTlv && payloadTlv.length > 0 ? payloadTlv : pdu.short_message;
  let offset = 0;
  let udh: UdhElement[] | undefined;
  let concat: { method: 'udh8' | 'udh16' | 'sar'; reference: number; total: number; seq: number } | undefined;
  if (pdu.esm_class & EsmClass.UDHI) {
    const parsed = parseUdh(data);
    if (parsed instanceof SegmentDecodeError) return { ok: false, error: parsed };
    offset = parsed.payloadOffset;
    const others = parsed.elements.filter((e) => e.iei !== 0x00 && e.iei !== 0x08);
    if (others.length > 0) udh = others.map((e) => ({ iei: e.iei, data: Buffer.from(e.data) }));
    if (parsed.concat) {
      const { reference, total, seq, referenceBits } = parsed.concat;
      concat = { method: referenceBits === 8 ? 'udh8' : 'udh16', reference, total, seq };
    }
  }
  if (!concat) {
    const s = sar(pdu.tlvs);
    if (s) concat = { method: 'sar', ...s };
  }
  let payload = Buffer.from(data.subarray(offset));
  if (options.gsm7Packed && isGsm7DataCoding(pdu.data_coding)) {
    const last = !concat || concat.seq === concat.total;
    payload = Buffer.from(
      unpackAllSeptets(payload, offset === 0 ? 0 : fillBitsAfter(offset), { dropZeroPadding: last }),
    );
  }
  const part: MoPart = {
    total: concat?.total ?? 1,
    seq: concat?.seq ?? 1,
    dataCoding: pdu.data_coding,
    payload,
  };
  if (udh) part.udh = udh;
  if (concat && concat.total > 1) {
    part.key = moSetKey(
      route,
      pdu.source_addr,
      pdu.destination_addr,
      concat.method,
      concat.reference,
      concat.total,
    );
    part.method = concat.method;
    part.reference = concat.reference;
  }
  return { ok: true, part };
}

/**
 * A fingerprint of a whole deliver_sm (route, addresses, esm_class, data_coding, user data, TLVs) for
 * duplicate detection: the same PDU redelivered has the same fingerprint.
 */
export function moFingerprint(pdu: MoPdu, route: string): string {
  const h = createHash('sha256');
  h.update(JSON.stringify([route, pdu.source_addr, pdu.destination_addr, pdu.esm_class, pdu.data_coding]));
  h.update(pdu.short_message);
  for (const t of pdu.tlvs ?? []) {
    h.update(`|${t.tag}:`);
    h.update(Buffer.isBuffer(t.value) ? t.value : String(t.value));
  }
  return h.digest('hex');
}

/** True when a deliver_sm with this fingerprint was seen at `lastSeenAt`, within the window before `now`. */
export function isDuplicateMo(
  lastSeenAt: number | undefined,
  now: number,
  windowMs = DEFAULT_DEDUP_WINDOW_MS,
): boolean {
  return lastSeenAt !== undefined && now - lastSeenAt >= 0 && now - lastSeenAt < windowMs;
}

/** A whole (or timed-out) inbound message. */
export interface MoMessage {
  dataCoding: number;
  /** Decoded text; for binary codings the Latin-1 reading, with `hex` the octets. */
  text: string;
  hex?: string;
  encoding: string;
  /** Parts stored / expected. */
  parts: number;
  total: number;
  incomplete: boolean;
  /** Missing part numbers (only when incomplete). */
  missing?: number[];
  udh?: UdhElement[];
}

export type ReassemblyVerdict =
  | { status: 'complete'; message: MoMessage }
  | { status: 'waiting'; missing: number[]; deadline: number }
  | { status: 'timed_out'; message: MoMessage };

/** The verdict on a stored set. Parts may be in any order; a repeated seq counts once (the first). */
export function decideReassembly(
  parts: readonly MoPart[],
  firstSeenAt: number,
  now: number,
  timeoutMs = DEFAULT_REASSEMBLY_TIMEOUT_MS,
): ReassemblyVerdict {
  const total = parts[0]?.total ?? 0;
  const bySeq = new Map<number, MoPart>();
  for (const p of parts) if (!bySeq.has(p.seq) && p.seq >= 1 && p.seq <= total) bySeq.set(p.seq, p);
  const missing: number[] = [];
  for (let seq = 1; seq <= total; seq++) if (!bySeq.has(seq)) missing.push(seq);
  if (total > 0 && missing.length === 0) return { status: 'complete', message: join(bySeq, total, []) };
  const deadline = firstSeenAt + timeoutMs;
  if (now < deadline) return { status: 'waiting', missing, deadline };
  return { status: 'timed_out', message: join(bySeq, total, missing) };
}

function join(bySeq: ReadonlyMap<number, MoPart>, total: number, missing: number[]): MoMessage {
  const ordered = [...bySeq.keys()].sort((a, b) => a - b).map((seq) => bySeq.get(seq)!);
  const first = ordered[0];
  const dataCoding = first?.dataCoding ?? 0;
  const payload = Buffer.concat(ordered.map((p) => p.payload));
  const decoded = decodeText(payload, dataCoding);
  const message: MoMessage = {
    dataCoding,
    text: decoded.text,
    encoding: decoded.encoding,
    parts: ordered.length,
    total,
    incomplete: missing.length > 0,
  };
  if (decoded.binary) message.hex = decoded.binary.toString('hex');
  if (missing.length > 0) message.missing = missing;
  const udh = bySeq.get(1)?.udh ?? first?.udh;
  if (udh) message.udh = udh;
  return message;
}

/** A single-part message straight away (no set to wait for). */
export function singleMoMessage(part: MoPart): MoMessage {
  return join(new Map([[1, part]]), 1, []);
}
