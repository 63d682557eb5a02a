/**
 * What GET /binds/:id/trace and its SSE stream show of a trace record: the header in plain
 * numbers and names, and the PDU's fields decoded (on read, never when recorded). Octet fields
 * (short_message, octet TLVs) are hex; the password of bind_* and outbind is '*' already (the
 * ring masks it when it stores the PDU).
 */
import type { PduTrace, TraceRecord } from '../binds/pdu-trace.js';
import { decodePdu } from '../protocol/codec.js';
import { statusName } from '../protocol/command-status.js';
import { commandName } from '../protocol/constants.js';
import { TLV_TABLE } from '../protocol/tlv.js';

export interface TraceEntry {
  /** Wall-clock time, µs since the epoch. */
  timeUs: number;
  /** The same, ISO 8601 (ms). */
  at: string;
  direction: 'in' | 'out';
  /** The command's name, or `0x…` for an id the codec does not know. */
  command: string;
  commandId: number;
  status: number;
  statusName: string;
  sequence: number;
  /** command_length: the PDU's size on the wire. */
  length: number;
  /** Only part of the PDU was kept (larger than a quarter of traceMaxBytes): no fields. */
  truncated: boolean;
  /** The decoded fields (header fields left out), or null when cut or undecodable. */
  fields: Record<string, unknown> | null;
  /** Why the fields are null, when the bytes did not decode. */
  error?: string;
}

function hex8(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

function plain(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString('hex');
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = plain(v);
    return out;
  }
  return value;
}

export function traceEntry(record: TraceRecord & { kind: 'pdu' }): TraceEntry {
  const b = record.bytes;
  const commandId = b.readUInt32BE(4);
  const status = b.readUInt32BE(8);
  const truncated = b.length < record.length;
  const entry: TraceEntry = {
    timeUs: record.timeUs,
    at: new Date(Math.floor(record.timeUs / 1000)).toISOString(),
    direction: record.out ? 'out' : 'in',
    command: commandName(commandId) ?? hex8(commandId),
    commandId,
    status,
    statusName: statusName(status),
    sequence: b.readUInt32BE(12),
    length: record.length,
    truncated,
    fields: null,
  };
  if (truncated) return entry;
  const decoded = decodePdu(b);
  if (!decoded.ok) {
    entry.error = decoded.error.message;
    return entry;
  }
  const {
    command: _c,
    command_status: _s,
    sequence_number: _n,
    tlvs,
    ...fields
  } = decoded.pdu as unknown as Record<string, unknown> & { tlvs?: { tag: number; value: unknown }[] };
  const out = plain(fields) as Record<string, unknown>;
  if (tlvs && tlvs.length > 0) {
    out.tlvs = tlvs.map((t) => ({
      tag: t.tag,
      name: TLV_TABLE.get(t.tag)?.name ?? `0x${t.tag.toString(16).padStart(4, '0')}`,
      value: plain(t.value),
    }));
  }
  entry.fields = out;
  return entry;
}

export interface TraceQuery {
  /** At most this many, the newest (default: all held). */
  limit?: number;
  /** Only these commands (names). */
  commands?: ReadonlySet<string>;
}

/** The newest `limit` PDUs held (of the given commands), oldest first. */
export function traceEntries(trace: PduTrace, query: TraceQuery = {}): TraceEntry[] {
  const records = trace.read();
  const limit = query.limit ?? Number.POSITIVE_INFINITY;
  const picked: (TraceRecord & { kind: 'pdu' })[] = [];
  for (let i = records.length - 1; i >= 0 && picked.length < limit; i--) {
    const r = records[i];
    if (r === undefined || r.kind !== 'pdu') continue;
    if (query.commands) {
      const id = r.bytes.readUInt32BE(4);
      const name = commandName(id) ?? hex8(id);
      if (!query.commands.has(name)) continue;
    }
    picked.push(r);
  }
  return picked.reverse().map(traceEntry);
}
