/**
 * The simulator's inbound (MO) cases, as an ESME sees them over loopback with the simulator on a
 * fake clock: one message in parts (UDH 8-bit, UDH 16-bit, SAR TLVs, one message_payload), parts
 * dropped, a deliver_sm sent again with the same content when its answer does not come in time
 * (or is a temporary error), bursts at a rate for a count, and the bounded record of every
 * deliver_sm with the answer it got.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CommandStatus } from '../../src/protocol/command-status.js';
import { EsmClass, TlvTag } from '../../src/protocol/constants.js';
import type { PduOf } from '../../src/protocol/pdu.js';
import { parseUdh } from '../../src/protocol/segments.js';
import { decodeText } from '../../src/protocol/text.js';
import { findTlv } from '../../src/protocol/tlv.js';
import { fakeClockSimulator } from '../helpers/fake-clock-simulator.js';
import { inbox, waitFor } from '../helpers/simulator.js';

const h = fakeClockSimulator({ esme: { systemId: 'acme' } });
afterEach(() => h.close());
const { sim, esme } = h;

const settle = (ms = 50) => new Promise((r) => setTimeout(r, ms));

const LONG = 'The quick brown fox jumps over the lazy dog. '.repeat(5).trim(); // 224 GSM characters: 2 parts

/** The text of a part after its UDH. */
function partText(pdu: PduOf<'deliver_sm'>): string {
  let octets = pdu.short_message;
  if (pdu.esm_class & EsmClass.UDHI) octets = octets.subarray(1 + (octets[0] ?? 0));
  return decodeText(octets, pdu.data_coding).text;
}

describe('MO in parts', () => {
  it('splits with an 8-bit reference UDH', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    const result = await s.sendMo({
      from: '447700900555',
      to: '12345',
      text: LONG,
      split: { method: 'udh8', reference: 7 },
    });
    expect(result).toMatchObject({ parts: 2, sent: 2, delivered: 1 });
    const parts = inbox(e);
    expect(parts.map((p) => (parseUdh(p.short_message) as { concat: unknown }).concat)).toEqual([
      { reference: 7, total: 2, seq: 1, referenceBits: 8 },
      { reference: 7, total: 2, seq: 2, referenceBits: 8 },
    ]);
    expect(parts.every((p) => p.esm_class & EsmClass.UDHI)).toBe(true);
    expect(parts.map(partText).join('')).toBe(LONG);
  });

  it('splits with a 16-bit reference UDH', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    await s.sendMo({ from: '1', to: '2', text: LONG, split: { method: 'udh16', reference: 0x1234 } });
    expect(inbox(e).map((p) => (parseUdh(p.short_message) as { concat: unknown }).concat)).toEqual([
      { reference: 0x1234, total: 2, seq: 1, referenceBits: 16 },
      { reference: 0x1234, total: 2, seq: 2, referenceBits: 16 },
    ]);
  });

  it('splits with SAR TLVs, and sends one message_payload when asked', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    await s.sendMo({ from: '1', to: '2', text: LONG, split: { method: 'sar', reference: 300 } });
    const sar = inbox(e).map((p) => [
      findTlv(p.tlvs, TlvTag.sar_msg_ref_num),
      findTlv(p.tlvs, TlvTag.sar_total_segments),
      findTlv(p.tlvs, TlvTag.sar_segment_seqnum),
    ]);
    expect(sar).toEqual([
      [300, 2, 1],
      [300, 2, 2],
    ]);
    expect(inbox(e).map(partText).join('')).toBe(LONG);
    await s.sendMo({ from: '1', to: '2', text: LONG, split: { method: 'payload' } });
    const payload = inbox(e)[2]!;
    expect(payload.short_message).toHaveLength(0);
    expect(decodeText(findTlv(payload.tlvs, TlvTag.message_payload) as Buffer, 0).text).toBe(LONG);
  });

  it('drops the parts asked, and says how many were sent', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    const text = 'x'.repeat(153 * 2 + 10); // 3 parts
    const result = await s.sendMo({ from: '1', to: '2', text, split: { method: 'udh8' }, dropParts: [2] });
    expect(result).toMatchObject({ parts: 3, sent: 2, delivered: 1 });
    expect(
      inbox(e).map((p) => (parseUdh(p.short_message) as { concat: { seq: number } }).concat.seq),
    ).toEqual([1, 3]);
    expect(s.deliveryRecords({ moId: result.id }).map((r) => [r.part, r.parts, r.outcome])).toEqual([
      [1, 3, 'ok'],
      [3, 3, 'ok'],
    ]);
  });

  it('refuses a reference too large for its method and a data_coding it cannot split', async () => {
    const { sim: s } = await sim();
    await expect(
      s.sendMo({ from: '1', to: '2', text: LONG, split: { method: 'udh8', reference: 256 } }),
    ).rejects.toThrow(/split.reference: at most 255/);
    await expect(
      s.sendMo({ from: '1', to: '2', text: LONG, dataCoding: 4, split: { method: 'sar' } }),
    ).rejects.toThrow(/dataCoding/);
  });
});

describe('MO redelivery', () => {
  it('sends the same deliver_sm again when its answer does not come within timeoutMs', async () => {
    const { sim: s } = await sim();
    let calls = 0;
    const e = await esme({ onDeliver: () => (++calls === 1 ? null : 0) });
    const result = s.sendMo({
      from: '1',
      to: '2',
      text: 'hello',
      redeliver: { timeoutMs: 30_000, attempts: 2 },
    });
    await waitFor(() => inbox(e).length === 1, 3_000, 'the first deliver_sm');
    h.clock.advance(29_999);
    await settle();
    expect(inbox(e)).toHaveLength(1);
    h.clock.advance(1);
    await waitFor(() => inbox(e).length === 2, 3_000, 'the redelivery');
    expect(await result).toMatchObject({ parts: 1, sent: 2, delivered: 1 });
    const [first, second] = inbox(e);
    expect(second!.sequence_number).not.toBe(first!.sequence_number);
    expect({ ...second, sequence_number: 0 }).toEqual({ ...first, sequence_number: 0 });
    expect(s.deliveryRecords({ kind: 'mo' }).map((r) => [r.attempt, r.outcome])).toEqual([
      [1, 'none'],
      [2, 'ok'],
    ]);
  });

  it('redelivers after a temporary error status, delayMs later, per an mo_redeliver case of the account', async () => {
    const { sim: s } = await sim();
    let calls = 0;
    const e = await esme({ onDeliver: () => (++calls === 1 ? CommandStatus.ESME_RX_T_APPN : 0) });
    s.setCase({ kind: 'mo_redeliver', timeoutMs: 10_000, attempts: 1, delayMs: 5_000 }, { systemId: 'acme' });
    const result = s.sendMo({ from: '1', to: '2', text: 'hello' });
    await waitFor(() => s.deliveryRecords()[0]?.outcome === 'error', 3_000, 'the error answer');
    h.clock.advance(4_999);
    await settle();
    expect(inbox(e)).toHaveLength(1);
    h.clock.advance(1);
    expect(await result).toMatchObject({ sent: 2, delivered: 1 });
    expect(s.deliveryRecords().map((r) => [r.attempt, r.outcome, r.status])).toEqual([
      [1, 'error', 'ESME_RX_T_APPN'],
      [2, 'ok', 'ESME_ROK'],
    ]);
  });

  it('keeps an MO for a named account that is not bound yet, per its redelivery policy, and sends it once it binds', async () => {
    const { sim: s } = await sim();
    s.setCase({ kind: 'mo_redeliver', timeoutMs: 10_000, attempts: 3, delayMs: 1_000 }, { systemId: 'acme' });
    const waiting = s.sendMo({ from: '1', to: '2', text: 'while down', systemId: 'acme' });
    h.clock.advance(1_000);
    await settle();
    expect(s.deliveryRecords()).toEqual([]);
    const e = await esme();
    h.clock.advance(1_000);
    expect(await waiting).toMatchObject({ sent: 1, delivered: 1 });
    expect(inbox(e).map(partText)).toEqual(['while down']);
  });

  it('gives up after the attempts, and sends once without a policy', async () => {
    const { sim: s } = await sim({ receipts: { responseTimeoutMs: 1_000 } });
    await esme({ onDeliver: () => null });
    const once = s.sendMo({ from: '1', to: '2', text: 'a' });
    await waitFor(() => s.deliveryRecords().length === 1, 3_000, 'the deliver_sm');
    h.clock.advance(1_000);
    expect(await once).toMatchObject({ sent: 1, delivered: 0 });
    const twice = s.sendMo({ from: '1', to: '2', text: 'b', redeliver: { timeoutMs: 1_000, attempts: 1 } });
    await waitFor(() => s.deliveryRecords().length === 2, 3_000, 'the deliver_sm');
    h.clock.advance(1_000);
    await waitFor(() => s.deliveryRecords().length === 3, 3_000, 'the redelivery');
    h.clock.advance(1_000);
    expect(await twice).toMatchObject({ sent: 2, delivered: 0 });
    expect(s.deliveryRecords().map((r) => r.outcome)).toEqual(['none', 'none', 'none']);
  });
});

describe('MO bursts', () => {
  it('sends count MO at ratePerSecond, numbering them, and reports progress', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    const burst = s.startMoBurst({
      from: '447700900555',
      to: '12345',
      text: 'msg {n}',
      count: 5,
      ratePerSecond: 1,
    });
    expect(burst).toMatchObject({ id: 1, count: 5, state: 'running' });
    await waitFor(() => inbox(e).length === 1, 3_000, 'the first MO at once');
    h.clock.advance(999);
    await settle();
    expect(inbox(e)).toHaveLength(1);
    h.clock.advance(1);
    await waitFor(() => inbox(e).length === 2, 3_000, 'the second MO a second later');
    h.clock.advance(3_000);
    await waitFor(() => s.moBursts()[0]?.state === 'done', 3_000, 'the burst done');
    expect(inbox(e).map(partText)).toEqual(['msg 1', 'msg 2', 'msg 3', 'msg 4', 'msg 5']);
    expect(s.moBursts()[0]).toMatchObject({ started: 5, delivered: 5, failed: 0 });
  });

  it('stops a burst on request', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    const { id } = s.startMoBurst({ from: '1', to: '2', count: 100, ratePerSecond: 10 });
    await waitFor(() => inbox(e).length === 1, 3_000, 'the first MO');
    s.stopMoBurst(id);
    h.clock.advance(10_000);
    await settle();
    expect(inbox(e)).toHaveLength(1);
    expect(s.moBursts()[0]).toMatchObject({ state: 'stopped', started: 1 });
    expect(() => s.stopMoBurst(99)).toThrow(/no burst with id 99/);
  });

  it('runs at most 16 bursts at once', async () => {
    const { sim: s } = await sim();
    for (let i = 0; i < 16; i++) s.startMoBurst({ from: '1', to: '2', count: 10, ratePerSecond: 1 });
    expect(() => s.startMoBurst({ from: '1', to: '2', count: 10, ratePerSecond: 1 })).toThrow(
      /at most 16 bursts/,
    );
  });
});

describe('deliver_sm record', () => {
  it('keeps the last maxDeliveryRecords, numbered, and pages with after', async () => {
    const { sim: s } = await sim({ maxDeliveryRecords: 3 });
    await esme();
    for (let i = 0; i < 5; i++) await s.sendMo({ from: '1', to: '2', text: `m${i}` });
    const records = s.deliveryRecords();
    expect(records.map((r) => r.seq)).toEqual([3, 4, 5]);
    expect(records[0]).toMatchObject({
      kind: 'mo',
      systemId: 'acme',
      from: '1',
      to: '2',
      outcome: 'ok',
      status: 'ESME_ROK',
    });
    expect(s.deliveryRecords({ after: 4 }).map((r) => r.seq)).toEqual([5]);
  });
});
