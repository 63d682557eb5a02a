/**
 * PduTrace: the last N PDUs of one bind, both directions, kept as raw bytes in one byte ring and
 * decoded only when someone reads them (GET /binds/:id/trace, the SSE stream, trace.pcap).
 *
 * Memory is the point. A service runs 10,000 binds, each with a ring, so a record is as small as
 * it can be: one flags byte, the time since the previous record as a varint (µs), then
 *   - enquire_link / enquire_link_resp with status 0 (the keepalive, most of a quiet bind's
 *     traffic): the 4-byte sequence_number only — the other 12 header bytes are implied;
 *   - any other PDU: varint original length, varint stored length when cut, the bytes;
 *   - a connection marker (a new TCP connection: its endpoints, for the pcap).
 * Records never wrap around the end of the buffer (a bip buffer: when one does not fit at the
 * end, writing goes on at offset 0 and `wrapAt` marks where the old data ends). The buffer is
 * allocated on the first record and grows (×1.5, to the record count's need) up to maxBytes;
 * the oldest records are evicted when the count or the byte cap is reached. A PDU larger than a
 * quarter of maxBytes is cut (its original length is kept; pcap says "cut", JSON `truncated`).
 *
 * Passwords never enter the ring: bind_* and outbind bodies have their password's octets
 * replaced by '*' (same length, so command_length and the TCP stream stay consistent) when
 * recorded — rare PDUs, so the probe path does not pay for it.
 */
import type { PduRecorder } from '../session/session.js';

/** Default ring size per bind (PDUs) and byte cap. */
export const DEFAULT_TRACE_SIZE = 200;
export const DEFAULT_TRACE_MAX_BYTES = 64 * 1024;
/** Smallest byte cap accepted (a cap below it is raised to it). */
export const MIN_TRACE_MAX_BYTES = 1024;

const OUT = 0x01;
const CUT = 0x02;
const KIND_SHIFT = 2;
const KIND_RAW = 0;
const KIND_ENQUIRE = 1;
const KIND_ENQUIRE_RESP = 2;
const KIND_CONN = 3;

const ENQUIRE_LINK = 0x00000015;
const ENQUIRE_LINK_RESP = 0x80000015;
const MASK = 0x2a; // '*'
/** Commands whose body is system_id, password (C-Octet Strings): bind_receiver, bind_transmitter, bind_transceiver, outbind. */
const PASSWORD_COMMANDS = new Set([0x00000001, 0x00000002, 0x00000009, 0x0000000b]);

/** The endpoints of one TCP connection, as the pcap shows them ("local" is this service). */
export interface TraceEndpoints {
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
}

/** One record read back: a PDU (raw bytes, maybe cut) or the start of a connection. */
export type TraceRecord =
  | {
      kind: 'pdu';
      /** Wall-clock time, µs since the epoch. */
      timeUs: number;
      out: boolean;
      /** The PDU's length on the wire. */
      length: number;
      /** The bytes kept (all of them unless `bytes.length < length`), password masked. */
      bytes: Buffer;
    }
  | { kind: 'connection'; timeUs: number; endpoints: TraceEndpoints };

/** Wall-clock µs since the epoch, with µs resolution (performance.now is monotonic within the process). */
export function wallClockUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

export interface PduTraceOptions {
  /** PDUs kept (0: the trace is off and records nothing). */
  size: number;
  /** Bytes the ring may take at most (default 64 KiB). */
  maxBytes?: number;
  /** Wall-clock µs (tests inject a fake). */
  nowUs?: () => number;
}

export type TraceListener = (record: TraceRecord & { kind: 'pdu' }) => void;

/** Masks the password of a bind_* / outbind PDU in place: its octets become '*'. */
export function maskPassword(pdu: Uint8Array): void {
  if (pdu.length < 17) return;
  const id =
    ((pdu[4] as number) << 24) | ((pdu[5] as number) << 16) | ((pdu[6] as number) << 8) | (pdu[7] as number);
  if (!PASSWORD_COMMANDS.has(id >>> 0)) return;
  let i = 16;
  while (i < pdu.length && pdu[i] !== 0) i++; // system_id
  i++;
  while (i < pdu.length && pdu[i] !== 0) pdu[i++] = MASK; // password
}

function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  let size = 4;
  let rest = Math.floor(n / 0x10000000);
  while (rest > 0) {
    rest = Math.floor(rest / 128);
    size++;
  }
  return size;
}

export class PduTrace implements PduRecorder {
  size: number;
  maxBytes: number;
  private readonly nowUs: () => number;
  private buf: Uint8Array | null = null;
  /** Offset of the oldest record, and where the next one goes. */
  private head = 0;
  private tail = 0;
  /** When the data wrapped: where the records before offset 0 end (-1: not wrapped). */
  private wrapAt = -1;
  /** PDU records held (connection markers not counted), and all records. */
  private pdus = 0;
  private records = 0;
  /** Time of the oldest record, and of the newest (µs). */
  private headUs = 0;
  private lastUs = 0;
  /** Offset of the newest record. */
  private lastAt = 0;
  /** The connection the oldest record belongs to, once its marker was evicted. */
  private headConnection: TraceEndpoints | null = null;
  private lastConnection: TraceEndpoints | null = null;
  /** Made with the first subscriber: 10,000 binds need no 10,000 empty sets. */
  private listeners: Set<TraceListener> | null = null;
  /** PDUs recorded since the trace was made (evicted ones included). */
  recorded = 0;

  constructor(options: PduTraceOptions) {
    this.size = Math.max(0, Math.floor(options.size));
    this.maxBytes = Math.max(MIN_TRACE_MAX_BYTES, Math.floor(options.maxBytes ?? DEFAULT_TRACE_MAX_BYTES));
    this.nowUs = options.nowUs ?? wallClockUs;
  }

  get enabled(): boolean {
    return this.size > 0;
  }

  /** PDUs held now. */
  get count(): number {
    return this.pdus;
  }

  /** Bytes allocated for the ring (0 until the first record). */
  get allocatedBytes(): number {
    return this.buf?.length ?? 0;
  }

  /** A new TCP connection starts: later PDUs belong to it (the pcap uses its addresses and ports). */
  connection(endpoints: TraceEndpoints, timeUs = this.nowUs()): void {
    this.lastConnection = endpoints;
    if (this.size === 0) return;
    const text = Buffer.from(
      `${endpoints.localAddress}|${endpoints.localPort}|${endpoints.remoteAddress}|${endpoints.remotePort}`,
    );
    const delta = this.delta(timeUs);
    const length = 1 + varintSize(delta) + varintSize(text.length) + text.length;
    const at = this.reserve(length, false);
    if (at < 0) return;
    const b = this.buf as Uint8Array;
    let i = at;
    b[i++] = KIND_CONN << KIND_SHIFT;
    i = writeVarint(b, i, delta);
    i = writeVarint(b, i, text.length);
    b.set(text, i);
    this.commit(at, at + length, timeUs, false);
  }

  /** Records one PDU: received (`out` false) or written (`out` true). Never throws. */
  record(out: boolean, pdu: Uint8Array): void {
    if (this.size === 0 || pdu.length < 16) return;
    this.put(out, pdu, this.nowUs());
  }

  /**
   * New limits (config reload): the newest records that fit are kept, with their times; the
   * listeners stay. A PDU cut before keeps only its stored bytes.
   */
  resize(size: number, maxBytes = DEFAULT_TRACE_MAX_BYTES): void {
    const records = this.read();
    this.clear();
    this.size = Math.max(0, Math.floor(size));
    this.maxBytes = Math.max(MIN_TRACE_MAX_BYTES, Math.floor(maxBytes));
    if (this.size === 0) return;
    for (const r of records) {
      if (r.kind === 'connection' && r.timeUs < 0) {
        this.headConnection = r.endpoints;
        this.lastConnection = r.endpoints;
      } else if (r.kind === 'connection') this.connection(r.endpoints, r.timeUs);
      else this.put(r.out, r.bytes, r.timeUs, true);
    }
  }

  private put(out: boolean, pdu: Uint8Array, timeUs: number, replay = false): void {
    if (!replay) this.recorded++;
    const delta = this.delta(timeUs);
    const flags = out ? OUT : 0;
    const n = pdu.length;
    const id =
      ((pdu[4] as number) << 24) |
      ((pdu[5] as number) << 16) |
      ((pdu[6] as number) << 8) |
      (pdu[7] as number);
    const b0 = pdu[8] as number;
    if (
      n === 16 &&
      (b0 | (pdu[9] as number) | (pdu[10] as number) | (pdu[11] as number)) === 0 &&
      pdu[3] === 16 &&
      (pdu[0] as number) + (pdu[1] as number) + (pdu[2] as number) === 0 &&
      (id === ENQUIRE_LINK || id >>> 0 === ENQUIRE_LINK_RESP)
    ) {
      const kind = id === ENQUIRE_LINK ? KIND_ENQUIRE : KIND_ENQUIRE_RESP;
      const length = 1 + varintSize(delta) + 4;
      const at = this.reserve(length, true);
      if (at < 0) return;
      const b = this.buf as Uint8Array;
      let i = at;
      b[i++] = flags | (kind << KIND_SHIFT);
      i = writeVarint(b, i, delta);
      b[i++] = pdu[12] as number;
      b[i++] = pdu[13] as number;
      b[i++] = pdu[14] as number;
      b[i] = pdu[15] as number;
      this.commit(at, at + length, timeUs, true);
    } else {
      const keep = Math.min(n, this.maxBytes >>> 2);
      const cut = keep < n;
      const length = 1 + varintSize(delta) + varintSize(n) + (cut ? varintSize(keep) : 0) + keep;
      const at = this.reserve(length, true);
      if (at < 0) return;
      const b = this.buf as Uint8Array;
      let i = at;
      b[i++] = flags | (cut ? CUT : 0) | (KIND_RAW << KIND_SHIFT);
      i = writeVarint(b, i, delta);
      i = writeVarint(b, i, n);
      if (cut) i = writeVarint(b, i, keep);
      b.set(keep === n ? pdu : pdu.subarray(0, keep), i);
      if (PASSWORD_COMMANDS.has(id >>> 0)) maskPassword(b.subarray(i, i + keep));
      this.commit(at, at + length, timeUs, true);
    }
    if (this.listeners !== null && !replay) this.notify();
  }

  /** Calls `listener` with each PDU recorded from now on; returns the unsubscribe. */
  subscribe(listener: TraceListener): () => void {
    this.listeners ??= new Set();
    this.listeners.add(listener);
    return () => {
      this.listeners?.delete(listener);
      if (this.listeners?.size === 0) this.listeners = null;
    };
  }

  /** Every record held, oldest first; the connection the oldest PDUs belong to comes first when known. */
  read(): TraceRecord[] {
    const out: TraceRecord[] = [];
    if (this.headConnection) out.push({ kind: 'connection', timeUs: -1, endpoints: this.headConnection });
    const b = this.buf;
    if (b === null || this.records === 0) return out;
    let timeUs = this.headUs;
    let first = true;
    const visit = (from: number, to: number): void => {
      let i = from;
      while (i < to) {
        const [record, next, delta] = decodeRecord(b, i);
        timeUs = first ? timeUs : timeUs + delta;
        first = false;
        record.timeUs = timeUs;
        out.push(record);
        i = next;
      }
    };
    if (this.wrapAt >= 0) {
      visit(this.head, this.wrapAt);
      visit(0, this.tail);
    } else visit(this.head, this.tail);
    return out;
  }

  /** Forgets every record (the buffer is released). */
  clear(): void {
    this.buf = null;
    this.head = 0;
    this.tail = 0;
    this.wrapAt = -1;
    this.pdus = 0;
    this.records = 0;
    this.headConnection = this.lastConnection;
  }

  // ------------------------------------------------------------------ internals

  private delta(timeUs: number): number {
    if (this.records === 0) return 0;
    const d = timeUs - this.lastUs;
    return Math.max(d, 0);
  }

  private commit(at: number, end: number, timeUs: number, pdu: boolean): void {
    if (this.records === 0) this.headUs = timeUs;
    this.lastAt = at;
    this.lastUs = this.records === 0 || timeUs > this.lastUs ? timeUs : this.lastUs;
    this.tail = end;
    this.records++;
    if (pdu) this.pdus++;
  }

  private notify(): void {
    // The newest record, decoded once for every listener.
    const [last] = decodeRecord(this.buf as Uint8Array, this.lastAt);
    if (last.kind !== 'pdu') return;
    last.timeUs = this.lastUs;
    for (const listener of this.listeners ?? []) listener(last);
  }

  /**
   * Room for a record of `length` bytes: returns its offset, evicting the oldest records (count
   * and byte cap) and growing the buffer as needed; -1 when it cannot fit at all.
   */
  private reserve(length: number, pdu: boolean): number {
    if (length > this.maxBytes) return -1;
    if (pdu && this.pdus >= this.size) this.evictPdu();
    if (this.buf === null) this.buf = new Uint8Array(Math.min(this.maxBytes, Math.max(256, length * 4)));
    for (;;) {
      const b = this.buf;
      if (this.records === 0) {
        this.head = 0;
        this.tail = 0;
        this.wrapAt = -1;
        if (length <= b.length) return 0;
      } else if (this.wrapAt < 0) {
        if (b.length - this.tail >= length) return this.tail;
        if (this.head >= length) {
          // Go on at offset 0; the records before end at tail.
          this.wrapAt = this.tail;
          this.tail = 0;
          return 0;
        }
      } else if (this.head - this.tail >= length) return this.tail;
      // No room: grow while below the cap and the count still has room, else evict the oldest.
      if (b.length < this.maxBytes && this.pdus < this.size) this.grow(length);
      else this.evictOne();
    }
  }

  private grow(length: number): void {
    const b = this.buf as Uint8Array;
    const used = this.usedBytes();
    const size = Math.min(this.maxBytes, Math.max(Math.ceil((b.length * 1.5) / 64) * 64, used + length));
    const next = new Uint8Array(size);
    if (this.wrapAt >= 0) {
      next.set(b.subarray(this.head, this.wrapAt), 0);
      next.set(b.subarray(0, this.tail), this.wrapAt - this.head);
    } else next.set(b.subarray(this.head, this.tail), 0);
    this.buf = next;
    this.head = 0;
    this.tail = used;
    this.wrapAt = -1;
  }

  private usedBytes(): number {
    return this.wrapAt >= 0 ? this.wrapAt - this.head + this.tail : this.tail - this.head;
  }

  /** Evicts records up to and including the oldest PDU. */
  private evictPdu(): void {
    while (this.records > 0) {
      if (this.evictOne()) return;
    }
  }

  /** Evicts the oldest record; true when it was a PDU. Allocates nothing unless it is a connection marker. */
  private evictOne(): boolean {
    const b = this.buf as Uint8Array;
    const at = this.head;
    const kind = (b[at] as number) >> KIND_SHIFT;
    const wasPdu = kind !== KIND_CONN;
    if (wasPdu) this.pdus--;
    else {
      const evicted = (decodeRecord(b, at)[0] as { endpoints: TraceEndpoints }).endpoints;
      // Usually the connection still in use: keep one object for it, not two.
      this.headConnection = sameEndpoints(evicted, this.lastConnection) ? this.lastConnection : evicted;
    }
    this.head = recordEnd(b, at);
    this.records--;
    if (this.wrapAt >= 0 && this.head >= this.wrapAt) {
      this.head = 0;
      this.wrapAt = -1;
    }
    if (this.records === 0) {
      this.head = 0;
      this.tail = 0;
      this.wrapAt = -1;
      this.headConnection = this.lastConnection;
      return wasPdu;
    }
    // The new oldest record's time: the old one's plus its delta.
    this.headUs += readVarint(b, this.head + 1);
    return wasPdu;
  }
}

function sameEndpoints(a: TraceEndpoints, b: TraceEndpoints | null): boolean {
  return (
    b !== null &&
    a.localAddress === b.localAddress &&
    a.localPort === b.localPort &&
    a.remoteAddress === b.remoteAddress &&
    a.remotePort === b.remotePort
  );
}

/** Where readVarint stopped (module scratch: no tuple per call on the hot path). */
let varintEnd = 0;

function readVarint(b: Uint8Array, at: number): number {
  let i = at;
  let n = 0;
  let scale = 1;
  for (;;) {
    const byte = b[i++] as number;
    n += (byte & 0x7f) * scale;
    scale *= 128;
    if (byte < 0x80) break;
  }
  varintEnd = i;
  return n;
}

/** The offset just past the record at `at`. */
function recordEnd(b: Uint8Array, at: number): number {
  const flags = b[at] as number;
  const kind = flags >> KIND_SHIFT;
  readVarint(b, at + 1);
  if (kind === KIND_ENQUIRE || kind === KIND_ENQUIRE_RESP) return varintEnd + 4;
  let length = readVarint(b, varintEnd);
  if (kind !== KIND_CONN && (flags & CUT) !== 0) length = readVarint(b, varintEnd);
  return varintEnd + length;
}

function writeVarint(b: Uint8Array, i: number, n: number): number {
  if (n < 0x80000000) {
    // Small enough for 32-bit integer shifts (deltas under 35 minutes, every length).
    while (n >= 0x80) {
      b[i++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    b[i++] = n;
    return i;
  }
  while (n >= 0x80) {
    b[i++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  b[i++] = n;
  return i;
}

/** Decodes the record at `at`: the record (timeUs 0, set by the caller), the next offset, the time delta. */
function decodeRecord(b: Uint8Array, at: number): [TraceRecord, number, number] {
  const flags = b[at] as number;
  const delta = readVarint(b, at + 1);
  let i = varintEnd;
  const kind = flags >> KIND_SHIFT;
  const out = (flags & OUT) !== 0;
  if (kind === KIND_ENQUIRE || kind === KIND_ENQUIRE_RESP) {
    const bytes = Buffer.alloc(16);
    bytes.writeUInt32BE(16, 0);
    bytes.writeUInt32BE(kind === KIND_ENQUIRE ? ENQUIRE_LINK : ENQUIRE_LINK_RESP, 4);
    bytes[12] = b[i] as number;
    bytes[13] = b[i + 1] as number;
    bytes[14] = b[i + 2] as number;
    bytes[15] = b[i + 3] as number;
    return [{ kind: 'pdu', timeUs: 0, out, length: 16, bytes }, i + 4, delta];
  }
  const length = readVarint(b, i);
  i = varintEnd;
  if (kind === KIND_CONN) {
    const [localAddress = '', localPort = '0', remoteAddress = '', remotePort = '0'] = Buffer.from(
      b.subarray(i, i + length),
    )
      .toString()
      .split('|');
    const endpoints = {
      localAddress,
      localPort: Number(localPort),
      remoteAddress,
      remotePort: Number(remotePort),
    };
    return [{ kind: 'connection', timeUs: 0, endpoints }, i + length, delta];
  }
  let keep = length;
  if ((flags & CUT) !== 0) {
    keep = readVarint(b, i);
    i = varintEnd;
  }
  const bytes = Buffer.from(b.subarray(i, i + keep));
  return [{ kind: 'pdu', timeUs: 0, out, length, bytes }, i + keep, delta];
}
