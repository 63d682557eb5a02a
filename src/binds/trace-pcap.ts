/**
 * A bind's PDU trace as a pcap file (libpcap format, µs timestamps, Ethernet link type) that
 * Wireshark and tshark open as an SMPP conversation. Each PDU becomes one TCP segment with
 * synthetic Ethernet/IPv4 (or IPv6)/TCP headers on the connection's real addresses and ports;
 * the sequence and acknowledgement numbers run on per direction, so the TCP dissector
 * reassembles the stream. A connection whose start is still in the trace opens with a
 * SYN / SYN-ACK / ACK handshake. A PDU the trace cut is written with its captured length below
 * its original one (Wireshark: "packet size limited during capture").
 *
 * Wireshark decodes SMPP by itself on port 2775 only; for another port: Decode As… (tshark:
 * `-d tcp.port==<port>,smpp`).
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { TraceEndpoints, TraceRecord } from './pdu-trace.js';

const LINKTYPE_ETHERNET = 1;
const SNAPLEN = 262_144;
const ETH = 14;
const TCP = 20;
const SYN = 0x02;
const ACK = 0x10;
const PSH = 0x08;
const LOCAL_MAC = Buffer.from([0x02, 0, 0, 0, 0, 0x01]);
const REMOTE_MAC = Buffer.from([0x02, 0, 0, 0, 0, 0x02]);
/** Initial sequence numbers of the synthetic streams (any value works; fixed ones make files reproducible). */
const LOCAL_ISN = 0x10000000;
const REMOTE_ISN = 0x20000000;

/** Used when the trace holds PDUs but no connection (a trace filled by hand). */
const UNKNOWN_ENDPOINTS: TraceEndpoints = {
  localAddress: '127.0.0.1',
  localPort: 49152,
  remoteAddress: '127.0.0.1',
  remotePort: 2775,
};

/** An address as 4 or 16 bytes; IPv4-mapped IPv6 (::ffff:a.b.c.d) becomes IPv4. */
export function addressBytes(address: string): Buffer {
  const a = address.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped?.[1]) return addressBytes(mapped[1]);
  if (isIPv4(a)) return Buffer.from(a.split('.').map(Number));
  if (!isIPv6(a)) return Buffer.from([127, 0, 0, 1]);
  const out = Buffer.alloc(16);
  // A trailing dotted IPv4 (::ffff:1.2.3.4, 64:ff9b::1.2.3.4) becomes two hex groups.
  const text = a.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, b0, b1, b2, b3) => {
    const hi = (Number(b0) << 8) | Number(b1);
    const lo = (Number(b2) << 8) | Number(b3);
    return `${hi.toString(16)}:${lo.toString(16)}`;
  });
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => Number.parseInt(g, 16)));
  const [left = '', right] = text.split('::');
  const head = parse(left);
  const tail = right === undefined ? [] : parse(right);
  const groups =
    right === undefined ? head : [...head, ...new Array(8 - head.length - tail.length).fill(0), ...tail];
  for (let g = 0; g < 8; g++) out.writeUInt16BE((groups[g] ?? 0) & 0xffff, g * 2);
  return out;
}

function sum16(buf: Buffer, start: number, end: number, initial = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += buf.readUInt16BE(i);
  if (i < end) sum += (buf[i] as number) << 8;
  return sum;
}

function fold(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

interface Stream {
  local: Buffer;
  remote: Buffer;
  localPort: number;
  remotePort: number;
  /** Next sequence number from us, and from the peer. */
  outSeq: number;
  inSeq: number;
}

function streamOf(endpoints: TraceEndpoints): Stream {
  let local = addressBytes(endpoints.localAddress);
  let remote = addressBytes(endpoints.remoteAddress);
  if (local.length !== remote.length) {
    // One side IPv4, the other IPv6: show both as IPv6 (the IPv4 one mapped).
    const mapped = (b: Buffer) =>
      b.length === 16 ? b : Buffer.concat([Buffer.alloc(10), Buffer.from([0xff, 0xff]), b]);
    local = mapped(local);
    remote = mapped(remote);
  }
  return {
    local,
    remote,
    localPort: endpoints.localPort,
    remotePort: endpoints.remotePort,
    outSeq: LOCAL_ISN,
    inSeq: REMOTE_ISN,
  };
}

/** One frame: pcap record header, Ethernet, IP, TCP, payload (`kept` of `length` bytes). */
function frame(
  stream: Stream,
  out: boolean,
  timeUs: number,
  flags: number,
  payload: Buffer,
  length: number,
): Buffer {
  const v6 = stream.local.length === 16;
  const ip = v6 ? 40 : 20;
  const captured = ETH + ip + TCP + payload.length;
  const original = ETH + ip + TCP + length;
  const b = Buffer.alloc(16 + captured);
  const sec = Math.floor(timeUs / 1e6);
  b.writeUInt32LE(sec >>> 0, 0);
  b.writeUInt32LE(Math.max(0, timeUs - sec * 1e6), 4);
  b.writeUInt32LE(captured, 8);
  b.writeUInt32LE(original, 12);
  let i = 16;
  (out ? REMOTE_MAC : LOCAL_MAC).copy(b, i);
  (out ? LOCAL_MAC : REMOTE_MAC).copy(b, i + 6);
  b.writeUInt16BE(v6 ? 0x86dd : 0x0800, i + 12);
  i += ETH;
  const src = out ? stream.local : stream.remote;
  const dst = out ? stream.remote : stream.local;
  const ipStart = i;
  if (v6) {
    b.writeUInt32BE(0x60000000, i);
    b.writeUInt16BE(TCP + length, i + 4);
    b[i + 6] = 6;
    b[i + 7] = 64;
    src.copy(b, i + 8);
    dst.copy(b, i + 24);
  } else {
    b[i] = 0x45;
    b.writeUInt16BE(ip + TCP + length, i + 2);
    b.writeUInt16BE(0x4000, i + 6); // don't fragment
    b[i + 8] = 64;
    b[i + 9] = 6;
    src.copy(b, i + 12);
    dst.copy(b, i + 16);
    b.writeUInt16BE(fold(sum16(b, i, i + 20)), i + 10);
  }
  i += ip;
  const tcpStart = i;
  b.writeUInt16BE(out ? stream.localPort : stream.remotePort, i);
  b.writeUInt16BE(out ? stream.remotePort : stream.localPort, i + 2);
  b.writeUInt32BE((out ? stream.outSeq : stream.inSeq) >>> 0, i + 4);
  b.writeUInt32BE(flags & ACK ? (out ? stream.inSeq : stream.outSeq) >>> 0 : 0, i + 8);
  b[i + 12] = (TCP / 4) << 4;
  b[i + 13] = flags;
  b.writeUInt16BE(65535, i + 14);
  payload.copy(b, i + TCP);
  if (payload.length === length) {
    // The TCP checksum over the pseudo-header, header and payload (when the payload is whole).
    let pseudo = sum16(b, ipStart + (v6 ? 8 : 12), ipStart + (v6 ? 40 : 20)) + 6 + TCP + length;
    pseudo = sum16(b, tcpStart, tcpStart + TCP + length, pseudo);
    b.writeUInt16BE(fold(pseudo), tcpStart + 16);
  }
  return b;
}

/** The pcap file of a trace's records (as PduTrace.read() returns them). */
export function tracePcap(records: readonly TraceRecord[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(SNAPLEN, 16);
  header.writeUInt32LE(LINKTYPE_ETHERNET, 20);
  const parts: Buffer[] = [header];
  let stream: Stream | null = null;
  const empty = Buffer.alloc(0);
  for (const r of records) {
    if (r.kind === 'connection') {
      stream = streamOf(r.endpoints);
      if (r.timeUs >= 0) {
        // The connection starts inside the trace: its handshake (SYN and SYN-ACK take one number each).
        parts.push(frame(stream, true, r.timeUs, SYN, empty, 0));
        stream.outSeq++;
        parts.push(frame(stream, false, r.timeUs, SYN | ACK, empty, 0));
        stream.inSeq++;
        parts.push(frame(stream, true, r.timeUs, ACK, empty, 0));
      }
      continue;
    }
    stream ??= streamOf(UNKNOWN_ENDPOINTS);
    parts.push(frame(stream, r.out, r.timeUs, PSH | ACK, r.bytes, r.length));
    if (r.out) stream.outSeq = (stream.outSeq + r.length) % 0x100000000;
    else stream.inSeq = (stream.inSeq + r.length) % 0x100000000;
  }
  return Buffer.concat(parts);
}
