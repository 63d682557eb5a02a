/**
 * The inbound handler against the binds registry (FakeClock, in-memory network, hand-built PDUs
 * from a real SMSC-side session) and a SqliteStore in a temp dir: every deliver_sm/data_sm is
 * answered ESME_ROK only after what it carries is stored, and a store that cannot take it gets a
 * temporary error so the SMSC redelivers.
 */
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandStatus } from '../../../src/protocol/command-status.js';
import { EsmClass, MessageState, TlvTag } from '../../../src/protocol/constants.js';
import { formatReceiptText, receiptTlvs } from '../../../src/protocol/receipt.js';
import { encodeText } from '../../../src/protocol/text.js';
import { InboundWorld, int, T0, udh, type WorldOptions } from './helpers.js';

const worlds: InboundWorld[] = [];
afterEach(async () => {
  for (const w of worlds.splice(0)) await w.close();
});

async function world(options: WorldOptions = {}): Promise<InboundWorld> {
  const w = new InboundWorld(options);
  worlds.push(w);
  await w.start();
  expect(w.binds.every((b) => b.state === 'bound')).toBe(true);
  return w;
}

const ROK = CommandStatus.ESME_ROK;

describe('inbound MO: stored before ESME_ROK', () => {
  it('stores a single MO and tells the sink in the same transaction, then answers ESME_ROK', async () => {
    const w = await world();
    const resp = await w.deliver({ short_message: encodeText('Hello @ world', 0) });
    expect(resp.command_status).toBe(ROK);
    const [stored] = await w.store.listInboundMessages({ limit: 10 });
    expect(stored).toMatchObject({
      bindId: 'b1',
      route: 'r1',
      from: '4917000001',
      to: '12345',
      encoding: 'gsm7',
      dataCoding: 0,
      partsCount: 1,
      incomplete: false,
    });
    expect(w.events.received).toHaveLength(1);
    expect(w.events.received[0]).toMatchObject({ route: 'r1', text: 'Hello @ world', incomplete: false });
    // The sink's own write committed with the message.
    const hooks = await w.store.claimWebhooks(10, 1_000);
    expect(hooks.map((h) => h.payload)).toEqual([{ id: stored!.id, text: 'Hello @ world' }]);
  });

  it('answers ESME_RSYSERR when the store cannot commit, keeps nothing, and stores the redelivery', async () => {
    let failing = true;
    const w = await world({
      store: {
        beforeCommit: () => {
          if (failing) throw new Error('disk full');
        },
      },
    });
    const refused = await w.deliver({ short_message: Buffer.from('keep me') });
    expect(refused.command_status).toBe(CommandStatus.ESME_RSYSERR);
    failing = false;
    expect(await w.store.listInboundMessages({ limit: 10 })).toEqual([]);
    expect(w.binds[0]!.state).toBe('bound');
    // The SMSC redelivers the same PDU: it was not remembered as seen, so it is stored now.
    const redelivered = await w.deliver({ short_message: Buffer.from('keep me') });
    expect(redelivered.command_status).toBe(ROK);
    expect(await w.store.listInboundMessages({ limit: 10 })).toHaveLength(1);
  });

  it("answers the bind's inboundErrorStatus (ESME_RX_T_APPN here) when the store is closed", async () => {
    const w = await world({ bind: { inboundErrorStatus: CommandStatus.ESME_RX_T_APPN } });
    await w.store.close();
    const resp = await w.deliver({ short_message: Buffer.from('late') });
    expect(resp.command_status).toBe(CommandStatus.ESME_RX_T_APPN);
    expect(w.events.received).toEqual([]);
  });
});

describe('inbound MO: reassembly', () => {
  it('joins 8-bit UDH parts arriving out of order and on two binds of one route, each acked when stored', async () => {
    const w = await world({ binds: ['b1', 'b2'] });
    const part = (seq: number, text: string, bind: number) =>
      w.deliver(
        { esm_class: EsmClass.UDHI, short_message: Buffer.concat([udh(7, 3, seq), Buffer.from(text)]) },
        bind,
      );
    expect((await part(3, 'three', 0)).command_status).toBe(ROK);
    expect((await part(1, 'one ', 1)).command_status).toBe(ROK);
    expect(w.events.received).toHaveLength(0);
    expect((await part(2, 'two ', 0)).command_status).toBe(ROK);
    expect(w.events.received).toHaveLength(1);
    expect(w.events.received[0]).toMatchObject({ text: 'one two three', incomplete: false });
    expect(w.events.received[0]!.message.partsCount).toBe(3);
    // Its parts are gone: nothing is left to time out.
    expect(await w.store.listStaleInboundGroups(Number.MAX_SAFE_INTEGER, 10)).toEqual([]);
  });

  it('keeps sets apart by reference, sender and total', async () => {
    const w = await world();
    const send = (from: string, ref: number, total: number, seq: number, text: string) =>
      w.deliver({
        source_addr: from,
        esm_class: EsmClass.UDHI,
        short_message: Buffer.concat([udh(ref, total, seq), Buffer.from(text)]),
      });
    await send('111', 9, 2, 1, 'a1');
    await send('222', 9, 2, 2, 'b2');
    await send('111', 10, 2, 2, 'c2');
    await send('111', 9, 3, 2, 'd2');
    expect(w.events.received).toHaveLength(0);
    await send('111', 9, 2, 2, 'a2');
    expect(w.events.received.map((r) => [r.message.from, r.text])).toEqual([['111', 'a1a2']]);
  });

  it('joins 16-bit UDH parts of UCS-2 text before decoding (a surrogate pair split across parts)', async () => {
    const w = await world();
    const octets = encodeText('Hi 😀!', 8);
    // Split inside the emoji's surrogate pair: 'H','i',' ',high | low,'!'
    const cut = 8;
    for (const [seq, chunk] of [
      [2, octets.subarray(cut)],
      [1, octets.subarray(0, cut)],
    ] as const) {
      const resp = await w.deliver({
        esm_class: EsmClass.UDHI,
        data_coding: 8,
        short_message: Buffer.concat([udh(0x1234, 2, seq, 16), chunk]),
      });
      expect(resp.command_status).toBe(ROK);
    }
    expect(w.events.received.map((r) => [r.text, r.message.encoding, r.dataCoding])).toEqual([
      ['Hi 😀!', 'ucs2', 8],
    ]);
  });

  it('joins parts numbered by SAR TLVs', async () => {
    const w = await world();
    const sar = (seq: number) => [
      { tag: TlvTag.sar_msg_ref_num, value: int(2, 300) },
      { tag: TlvTag.sar_total_segments, value: int(1, 2) },
      { tag: TlvTag.sar_segment_seqnum, value: int(1, seq) },
    ];
    await w.deliver({ short_message: Buffer.from('world'), tlvs: sar(2) });
    expect(w.events.received).toHaveLength(0);
    await w.deliver({ short_message: Buffer.from('hello '), tlvs: sar(1) });
    expect(w.events.received.map((r) => r.text)).toEqual(['hello world']);
  });

  it('delivers a set still missing a part after mo.reassemblyTimeoutMs as one incomplete message, not before', async () => {
    const w = await world({ reassemblyTimeoutMs: 60_000 });
    const send = (seq: number, text: string) =>
      w.deliver({
        esm_class: EsmClass.UDHI,
        short_message: Buffer.concat([udh(5, 3, seq), Buffer.from(text)]),
      });
    expect((await send(1, 'first ')).command_status).toBe(ROK);
    await w.advance(10_000);
    expect((await send(3, 'third')).command_status).toBe(ROK);
    await w.advance(49_000);
    expect(w.events.received).toHaveLength(0);
    await w.advance(2_000);
    expect(w.events.received).toHaveLength(1);
    const [late] = w.events.received;
    expect(late).toMatchObject({ text: 'first third', incomplete: true, route: 'r1' });
    expect(late!.message).toMatchObject({
      from: '4917000001',
      to: '12345',
      partsCount: 2,
      incomplete: true,
      metadata: { missing: [2], concat: { method: 'udh8', reference: 5, total: 3 } },
    });
    // Delivered once: the parts are gone.
    await w.advance(60_000);
    expect(w.events.received).toHaveLength(1);
  });

  it('delivers a timed-out set after a restart, from the parts stored before it', async () => {
    const w = await world({ reassemblyTimeoutMs: 60_000 });
    await w.deliver({
      esm_class: EsmClass.UDHI,
      short_message: Buffer.concat([udh(6, 2, 1), Buffer.from('half')]),
    });
    await w.restart();
    await w.advance(61_000);
    expect(w.events.received.map((r) => [r.text, r.incomplete])).toEqual([['half', true]]);
  });
});

describe('inbound MO: redelivery', () => {
  it('delivers a redelivered deliver_sm once and answers ESME_ROK each time, also across a restart', async () => {
    const w = await world({ dedupWindowMs: 600_000 });
    const pdu = { short_message: Buffer.from('only once') };
    expect((await w.deliver(pdu)).command_status).toBe(ROK);
    expect((await w.deliver(pdu)).command_status).toBe(ROK);
    await w.restart();
    expect((await w.deliver(pdu)).command_status).toBe(ROK);
    expect(w.events.received).toHaveLength(1);
    expect(await w.store.listInboundMessages({ limit: 10 })).toHaveLength(1);
  });

  it('ignores a redelivered part of a set that is still waiting', async () => {
    const w = await world();
    const part1 = {
      esm_class: EsmClass.UDHI,
      short_message: Buffer.concat([udh(8, 2, 1), Buffer.from('a')]),
    };
    await w.deliver(part1);
    await w.deliver(part1);
    await w.deliver({
      esm_class: EsmClass.UDHI,
      short_message: Buffer.concat([udh(8, 2, 2), Buffer.from('b')]),
    });
    await w.deliver(part1);
    expect(w.events.received.map((r) => r.text)).toEqual(['ab']);
  });

  it('takes the same text again as a new message once the window has passed', async () => {
    const w = await world({ dedupWindowMs: 30_000 });
    const pdu = { short_message: Buffer.from('yes') };
    await w.deliver(pdu);
    await w.advance(30_000);
    await w.deliver(pdu);
    expect(w.events.received).toHaveLength(2);
  });
});

describe('inbound MO: data_sm, message_payload and encodings', () => {
  it('stores a data_sm whose text is in message_payload', async () => {
    const w = await world();
    const text = 'a long text '.repeat(30);
    const resp = await w.dataSm({ tlvs: [{ tag: TlvTag.message_payload, value: Buffer.from(text) }] });
    expect(resp.command).toBe('data_sm_resp');
    expect(resp.command_status).toBe(ROK);
    expect(w.events.received.map((r) => r.text)).toEqual([text]);
  });

  it('decodes GSM 7-bit, Latin-1 and UCS-2, and gives binary as no text with the octets kept', async () => {
    const w = await world();
    await w.deliver({ data_coding: 0, short_message: encodeText('{€uro}', 0), source_addr: '1' });
    await w.deliver({ data_coding: 3, short_message: Buffer.from('Grüße', 'latin1'), source_addr: '2' });
    await w.deliver({ data_coding: 8, short_message: encodeText('Привет', 8), source_addr: '3' });
    await w.deliver({
      data_coding: 4,
      short_message: Buffer.from([0xde, 0xad, 0x00, 0xff]),
      source_addr: '4',
    });
    expect(w.events.received.map((r) => [r.text, r.message.encoding, r.dataCoding])).toEqual([
      ['{€uro}', 'gsm7', 0],
      ['Grüße', 'latin1', 3],
      ['Привет', 'ucs2', 8],
      [null, 'binary', 4],
    ]);
    expect(w.events.received[3]!.message.body.toString('hex')).toBe('dead00ff');
  });

  it('answers an MO with a truncated UDH ESME_RX_P_APPN and stores nothing', async () => {
    const w = await world();
    const resp = await w.deliver({
      esm_class: EsmClass.UDHI,
      short_message: Buffer.from([0x05, 0x00, 0x03]),
    });
    expect(resp.command_status).toBe(CommandStatus.ESME_RX_P_APPN);
    expect(await w.store.listInboundMessages({ limit: 10 })).toEqual([]);
    expect(w.binds[0]!.state).toBe('bound');
  });
});

describe('inbound metrics', () => {
  it('counts MO by outcome and observes how long each took to answer', async () => {
    const w = await world();
    const registry = new Registry();
    for (const m of w.path.metrics) registry.registerMetric(m);
    const part1 = {
      esm_class: EsmClass.UDHI,
      short_message: Buffer.concat([udh(7, 2, 1), Buffer.from('a')]),
    };
    expect((await w.deliver({ short_message: Buffer.from('one') })).command_status).toBe(ROK);
    expect((await w.deliver({ short_message: Buffer.from('one') })).command_status).toBe(ROK);
    expect((await w.deliver(part1)).command_status).toBe(ROK);
    await w.deliver({ esm_class: EsmClass.UDHI, short_message: Buffer.from([0x05, 0x00, 0x03]) });
    const json = await registry.getMetricsAsJSON();
    const total = json.find((m) => m.name === 'smpp_inbound_mo_total')!;
    const by = Object.fromEntries(total.values.map((v) => [v.labels.outcome, v.value]));
    expect(by).toEqual({ delivered: 1, duplicate: 1, part_stored: 1, malformed: 1, failed: 0 });
    const answers = json.find((m) => m.name === 'smpp_inbound_answer_duration_seconds')!;
    const count = answers.values.find(
      (v) => (v as { metricName?: string }).metricName?.endsWith('_count') && v.labels.kind === 'mo',
    );
    expect(count?.value).toBe(4);
  });
});

describe('inbound receipts', () => {
  const date = new Date(Date.UTC(2026, 11, 7, 10, 0));
  const text = formatReceiptText({ id: 'text-id', submitDate: date, doneDate: date, stat: 'UNDELIV' });

  it('routes a receipt to the ReceiptSink, TLVs over the text, and answers ESME_ROK after it resolved', async () => {
    const w = await world();
    const resp = await w.deliver({
      esm_class: EsmClass.TYPE_DELIVERY_RECEIPT,
      short_message: Buffer.from(text),
      tlvs: receiptTlvs({ id: 'tlv-id', stat: 'DELIVRD' }),
    });
    expect(resp.command_status).toBe(ROK);
    expect(w.receipts.receipts).toHaveLength(1);
    expect(w.receipts.receipts[0]).toMatchObject({
      bindId: 'b1',
      receivedAt: T0 + w.clock.now(),
      receipt: { id: 'tlv-id', stat: 'DELIVRD', messageState: MessageState.DELIVERED },
    });
    expect(await w.store.takeParkedReceipts('tlv-id')).toHaveLength(1);
    // A receipt is not an MO.
    expect(w.events.received).toEqual([]);
  });

  it('takes a text receipt flagged by esm_class, and one with receipt TLVs but esm_class 0', async () => {
    const w = await world();
    await w.deliver({ esm_class: EsmClass.TYPE_DELIVERY_RECEIPT, short_message: Buffer.from(text) });
    await w.deliver({ tlvs: receiptTlvs({ id: 'zero-esm', stat: 'EXPIRED' }) });
    await w.dataSm({
      esm_class: EsmClass.TYPE_DELIVERY_RECEIPT,
      tlvs: receiptTlvs({ id: 'via-data-sm', stat: 'DELIVRD' }),
    });
    expect(w.receipts.receipts.map((r) => [r.receipt.id, r.receipt.stat])).toEqual([
      ['text-id', 'UNDELIV'],
      ['zero-esm', 'EXPIRED'],
      ['via-data-sm', 'DELIVRD'],
    ]);
  });

  it('takes receipt-like text with esm_class 0 and no TLVs as an MO (a user may type it)', async () => {
    const w = await world();
    await w.deliver({ short_message: Buffer.from(text) });
    expect(w.receipts.receipts).toEqual([]);
    expect(w.events.received).toHaveLength(1);
  });

  it('answers ESME_RSYSERR when the sink could not store the receipt', async () => {
    const w = await world();
    w.receipts.fail = true;
    const resp = await w.deliver({
      esm_class: EsmClass.TYPE_DELIVERY_RECEIPT,
      tlvs: receiptTlvs({ id: 'lost', stat: 'DELIVRD' }),
    });
    expect(resp.command_status).toBe(CommandStatus.ESME_RSYSERR);
  });
});
