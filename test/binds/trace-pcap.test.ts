/**
 * trace.pcap: the trace's PDUs as TCP segments that tshark decodes as SMPP, field for field, with
 * no malformed packet and no expert warning (bad checksums, lost segments, overlaps), on IPv4
 * and IPv6 and on a port other than 2775 (`-d tcp.port==P,smpp`). Skipped without tshark.
 */
import { describe, expect, it } from 'vitest';
import { PduTrace } from '../../src/binds/pdu-trace.js';
import { addressBytes, tracePcap } from '../../src/binds/trace-pcap.js';
import { encodePdu } from '../../src/protocol/codec.js';
import { createPdu } from '../../src/protocol/pdu.js';
import { EXPERT_WARN, hasTshark, tsharkFields } from '../helpers/tshark.js';

function fakeUs() {
  let t = 1_796_605_200_000_000;
  return () => (t += 1_500);
}

/** A conversation: bind (password 's3cret'), keepalive, submits, a deliver_sm; [command_id, seq] as sent. */
function conversation(trace: PduTrace, rounds: number): [string, string][] {
  const sent: [string, string][] = [];
  const put = (out: boolean, bytes: Buffer): void => {
    trace.record(out, bytes);
    sent.push([`0x${bytes.readUInt32BE(4).toString(16).padStart(8, '0')}`, String(bytes.readUInt32BE(12))]);
  };
  put(
    true,
    encodePdu(createPdu('bind_transceiver', { sequence_number: 1, system_id: 'acme', password: 's3cret' })),
  );
  put(false, encodePdu(createPdu('bind_transceiver_resp', { sequence_number: 1, system_id: 'smsc' })));
  for (let i = 0; i < rounds; i++) {
    const seq = 2 + i;
    put(true, encodePdu(createPdu('enquire_link', { sequence_number: seq })));
    put(false, encodePdu(createPdu('enquire_link_resp', { sequence_number: seq })));
    put(
      true,
      encodePdu(
        createPdu('submit_sm', {
          sequence_number: seq,
          destination_addr: '4915112345678',
          short_message: Buffer.from(`message ${i}`),
        }),
      ),
    );
    put(false, encodePdu(createPdu('submit_sm_resp', { sequence_number: seq, message_id: `id${i}` })));
    put(
      false,
      encodePdu(createPdu('deliver_sm', { sequence_number: 1000 + i, short_message: Buffer.from('mo') })),
    );
    put(true, encodePdu(createPdu('deliver_sm_resp', { sequence_number: 1000 + i })));
  }
  return sent;
}

describe('addressBytes', () => {
  it('reads IPv4, IPv6 (compressed, embedded IPv4) and IPv4-mapped addresses', () => {
    expect([...addressBytes('10.1.2.3')]).toEqual([10, 1, 2, 3]);
    expect([...addressBytes('::ffff:127.0.0.1')]).toEqual([127, 0, 0, 1]);
    expect(addressBytes('::1').toString('hex')).toBe('00000000000000000000000000000001');
    expect(addressBytes('fe80::1%eth0').toString('hex')).toBe('fe800000000000000000000000000001');
    expect(addressBytes('2001:db8:1:2:3:4:5:6').toString('hex')).toBe('20010db8000100020003000400050006');
    expect(addressBytes('64:ff9b::192.0.2.33').toString('hex')).toBe('0064ff9b0000000000000000c0000221');
  });
});

describe.skipIf(!hasTshark)('trace.pcap decoded by tshark', () => {
  for (const [family, local, remote] of [
    ['IPv4', '127.0.0.1', '127.0.0.2'],
    ['IPv6', '::1', '2001:db8::5'],
  ] as const) {
    it(`${family}: every PDU decodes as SMPP with its command_id and sequence_number, nothing malformed`, () => {
      const trace = new PduTrace({ size: 500, nowUs: fakeUs() });
      trace.connection({ localAddress: local, localPort: 40_123, remoteAddress: remote, remotePort: 12_775 });
      const sent = conversation(trace, 20);
      const rows = tsharkFields(tracePcap(trace.read()), 12_775, [
        'smpp.command_id',
        'smpp.sequence_number',
        'smpp.password',
        '_ws.malformed',
        '_ws.expert.severity',
        'tcp.checksum.status',
        family === 'IPv4' ? 'ip.src' : 'ipv6.src',
      ]);
      // SYN, SYN-ACK, ACK, then one frame per PDU.
      expect(rows).toHaveLength(3 + sent.length);
      const pduRows = rows.slice(3);
      expect(pduRows.map((r) => [r[0], r[1]])).toEqual(sent);
      expect(pduRows[0]?.[2]).toBe('******');
      for (const r of rows) {
        expect(r[3], 'malformed').toBe('');
        for (const severity of (r[4] ?? '').split(',').filter(Boolean)) {
          expect(Number(severity)).toBeLessThan(EXPERT_WARN);
        }
        expect(r[5], 'tcp checksum good').toBe('1');
      }
      expect(pduRows[0]?.[6]).toBe(local);
      expect(pduRows[1]?.[6]).toBe(remote);
    });
  }

  it('a wrapped ring (handshake evicted) still reassembles: the oldest PDUs on the remembered connection', () => {
    const trace = new PduTrace({ size: 40, nowUs: fakeUs() });
    trace.connection({
      localAddress: '127.0.0.1',
      localPort: 40_000,
      remoteAddress: '127.0.0.1',
      remotePort: 2775,
    });
    const sent = conversation(trace, 30);
    // Without -d: port 2775 is SMPP to Wireshark by itself (the -d changes nothing here).
    const rows = tsharkFields(tracePcap(trace.read()), 2775, [
      'smpp.command_id',
      'smpp.sequence_number',
      '_ws.malformed',
      'tcp.srcport',
    ]);
    expect(rows.map((r) => [r[0], r[1]])).toEqual(sent.slice(-40));
    expect(rows.every((r) => r[2] === '')).toBe(true);
    expect(new Set(rows.map((r) => r[3]))).toEqual(new Set(['40000', '2775']));
  });

  it('a second connection opens with its own handshake and ports', () => {
    const trace = new PduTrace({ size: 100, nowUs: fakeUs() });
    trace.connection({
      localAddress: '127.0.0.1',
      localPort: 40_000,
      remoteAddress: '127.0.0.1',
      remotePort: 2775,
    });
    conversation(trace, 2);
    trace.connection({
      localAddress: '127.0.0.1',
      localPort: 40_001,
      remoteAddress: '127.0.0.1',
      remotePort: 2775,
    });
    conversation(trace, 2);
    const rows = tsharkFields(tracePcap(trace.read()), 2775, [
      'tcp.flags.syn',
      'tcp.stream',
      '_ws.malformed',
    ]);
    expect(rows.filter((r) => r[0] === 'True' || r[0] === '1')).toHaveLength(4);
    expect(new Set(rows.map((r) => r[1]))).toEqual(new Set(['0', '1']));
    expect(rows.every((r) => r[2] === '')).toBe(true);
  });
});
