/**
 * Messages through the simulator: submit_sm / data_sm / submit_multi and their ids,
 * query_sm / cancel_sm / replace_sm over the message store, delivery receipts (read back with
 * parseReceipt) for every registered_delivery variant, their retries, and MO injection.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodePdu } from '../../src/protocol/codec.js';
import { CommandStatus } from '../../src/protocol/command-status.js';
import { DataCoding, EsmClass, MessageState, TlvTag } from '../../src/protocol/constants.js';
import { createPdu, type Pdu, type PduOf } from '../../src/protocol/pdu.js';
import { parseReceipt, type Receipt } from '../../src/protocol/receipt.js';
import { decodeText } from '../../src/protocol/text.js';
import { findTlv, tlvBytes } from '../../src/protocol/tlv.js';
import type { SmppSession } from '../../src/session/session.js';
import { SimulatorError } from '../../src/simulator/errors.js';
import type { SimulatorOptions } from '../../src/simulator/simulator.js';
import {
  connectEsme,
  type EsmeOptions,
  inbox,
  type StartedSimulator,
  startSimulator,
  waitFor,
} from '../helpers/simulator.js';

let started: StartedSimulator | undefined;
const esmes: SmppSession[] = [];

afterEach(async () => {
  for (const e of esmes.splice(0)) e.destroy();
  await started?.close();
  started = undefined;
});

async function sim(options: SimulatorOptions = {}): Promise<StartedSimulator> {
  started = await startSimulator({ ...options, receipts: { delayMs: 20, ...options.receipts } });
  return started;
}

async function esme(options: EsmeOptions = {}): Promise<SmppSession> {
  const e = await connectEsme(started!.port, options);
  esmes.push(e);
  return e;
}

function receiptOf(pdu: PduOf<'deliver_sm'>): Receipt {
  const receipt = parseReceipt(pdu);
  if (receipt === null) throw new Error('not a receipt');
  return receipt;
}

type SubmitInit = Parameters<SmppSession['request']>[1];

async function submit(e: SmppSession, init: Partial<PduOf<'submit_sm'>> = {}): Promise<string> {
  const resp = await e.request('submit_sm', {
    source_addr_ton: 5,
    source_addr: 'MyBrand',
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    destination_addr: '447700900123',
    short_message: Buffer.from('Hello world, this is a test'),
    ...init,
  } as SubmitInit);
  expect(resp).toMatchObject({ command: 'submit_sm_resp', command_status: 0 });
  return (resp as PduOf<'submit_sm_resp'>).message_id;
}

async function status(e: SmppSession, command: 'submit_sm' | 'data_sm', init: object): Promise<number> {
  return (await e.request(command, init as SubmitInit)).command_status;
}

describe('submit_sm, data_sm, submit_multi', () => {
  it('answers each submit_sm with a fresh message_id of 16 hex digits', async () => {
    const { sim: s } = await sim();
    const e = await esme({ windowSize: 50 });
    const submitted: string[] = [];
    s.on('submit', ({ messageId, systemId }) => submitted.push(`${systemId}:${messageId}`));
    const ids = await Promise.all(Array.from({ length: 50 }, () => submit(e)));
    expect(new Set(ids).size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(submitted).toHaveLength(50);
    expect(submitted[0]).toMatch(/^esme:/);
    expect(s.counters().submits).toBe(50);
  });

  it('gives decimal ids when asked', async () => {
    await sim({ messageIdFormat: 'decimal' });
    const e = await esme();
    expect(await submit(e)).toMatch(/^\d{17}$/);
  });

  it('answers data_sm with a message_id and stores its message_payload', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    const resp = await e.request('data_sm', {
      source_addr: '12345',
      destination_addr: '447700900123',
      tlvs: [{ tag: TlvTag.message_payload, value: Buffer.from('payload text') }],
    });
    expect(resp.command).toBe('data_sm_resp');
    const id = (resp as PduOf<'data_sm_resp'>).message_id;
    expect(s.message(id)?.payload.toString()).toBe('payload text');
  });

  it('answers submit_multi with one id and lists distribution lists it does not know as unsuccessful', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    const resp = (await e.request('submit_multi', {
      source_addr: 'Brand',
      dest_address: [
        { dest_flag: 1, dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '447700900001' },
        { dest_flag: 2, dl_name: 'friends' },
        { dest_flag: 1, dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '447700900002' },
      ],
      short_message: Buffer.from('hi all'),
    })) as PduOf<'submit_multi_resp'>;
    expect(resp.command_status).toBe(0);
    expect(resp.unsuccess_sme).toEqual([
      {
        dest_addr_ton: 0,
        dest_addr_npi: 0,
        destination_addr: 'friends',
        error_status_code: CommandStatus.ESME_RINVDLNAME,
      },
    ]);
    expect(s.message(resp.message_id)?.destinations.map((d) => d.addr)).toEqual([
      '447700900001',
      '447700900002',
    ]);
  });

  it('refuses what it cannot accept with the matching status', async () => {
    await sim();
    const e = await esme();
    expect(await status(e, 'submit_sm', { destination_addr: '', short_message: Buffer.from('x') })).toBe(
      CommandStatus.ESME_RINVDSTADR,
    );
    // short_message and message_payload together (reference §8.7): our encoder refuses, so splice the bytes.
    const plain = encodePdu(
      createPdu('submit_sm', { sequence_number: 77, destination_addr: '1', short_message: Buffer.from('x') }),
    );
    const both = Buffer.concat([plain, Buffer.from([0x04, 0x24, 0x00, 0x01, 0x79])]);
    both.writeUInt32BE(both.length, 0);
    const answered = new Promise<Pdu>((resolve) => e.once('unexpected', ({ pdu }) => resolve(pdu)));
    e.sendRaw(both);
    expect(await answered).toMatchObject({
      command: 'submit_sm_resp',
      sequence_number: 77,
      command_status: CommandStatus.ESME_RINVMSGLEN,
    });
    expect(
      await status(e, 'submit_sm', { destination_addr: '1', schedule_delivery_time: '991332000000000+' }),
    ).toBe(CommandStatus.ESME_RINVSCHED);
    expect(await status(e, 'submit_sm', { destination_addr: '1', validity_period: '250199143000004+' })).toBe(
      CommandStatus.ESME_RINVEXPIRY,
    );
    // number_of_dests 0, which our encoder also refuses to write.
    const header = Buffer.from('00000000000000210000000000000058', 'hex');
    // service_type, source ton/npi/addr, number_of_dests 0, esm_class .. sm_default_msg_id, sm_length 1, 'x'
    const body = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x78]);
    const noDests = Buffer.concat([header, body]);
    noDests.writeUInt32BE(noDests.length, 0);
    const multi = new Promise<Pdu>((resolve) => e.once('unexpected', ({ pdu }) => resolve(pdu)));
    e.sendRaw(noDests);
    expect(await multi).toMatchObject({
      command: 'submit_multi_resp',
      command_status: CommandStatus.ESME_RINVNUMDESTS,
    });
  });

  it('answers commands it does not offer (broadcast_sm) with generic_nack ESME_RINVCMDID', async () => {
    await sim();
    const e = await esme();
    const resp = await e.request('broadcast_sm', { message_id: '' });
    expect(resp).toMatchObject({ command: 'generic_nack', command_status: CommandStatus.ESME_RINVCMDID });
  });
});

describe('query_sm, cancel_sm, replace_sm', () => {
  // query_sm ENROUTE → final state, at the exact time: test/simulator/clock.test.ts.
  it('query_sm reports ENROUTE, then the final state with its date', async () => {
    const { sim: s } = await sim({ receipts: { delayMs: 20, finalState: 'UNDELIV', err: '034' } });
    const e = await esme();
    const id = await submit(e);
    await waitFor(() => s.message(id)?.stat, 5_000, 'the final state');
    const after = (await e.request('query_sm', { message_id: id })) as PduOf<'query_sm_resp'>;
    expect(after).toMatchObject({ message_state: MessageState.UNDELIVERABLE, error_code: 34 });
    expect(after.final_date).toMatch(/^\d{12}\d00\+$/);
  });

  it('query_sm for an id it does not know, or of another account, is ESME_RINVMSGID', async () => {
    await sim();
    const a = await esme({ systemId: 'a' });
    const b = await esme({ systemId: 'b' });
    const id = await submit(a);
    for (const [who, mid] of [
      [a, 'ffffffffffffffff'],
      [b, id],
    ] as const) {
      const resp = await who.request('query_sm', { message_id: mid });
      expect(resp.command_status).toBe(CommandStatus.ESME_RINVMSGID);
    }
  });

  it('cancel_sm makes a pending message DELETED and stops its receipt; a final one cannot be cancelled', async () => {
    // An hour: the cancel comes first however slow the machine (the exact timing is in clock.test.ts).
    await sim({ receipts: { delayMs: 3_600_000 } });
    const e = await esme();
    const id = await submit(e, { registered_delivery: 1 });
    const cancel = await e.request('cancel_sm', {
      message_id: id,
      source_addr: 'MyBrand',
      destination_addr: '447700900123',
    });
    expect(cancel).toMatchObject({ command: 'cancel_sm_resp', command_status: 0 });
    const q = (await e.request('query_sm', { message_id: id })) as PduOf<'query_sm_resp'>;
    expect(q.message_state).toBe(MessageState.DELETED);
    expect(inbox(e)).toHaveLength(0);
    expect((await e.request('cancel_sm', { message_id: id })).command_status).toBe(
      CommandStatus.ESME_RCANCELFAIL,
    );
  });

  it('cancel_sm without a message_id cancels the pending messages from source_addr to destination_addr', async () => {
    const { sim: s } = await sim({ receipts: { delayMs: 5_000 } });
    const e = await esme();
    const a = await submit(e, { destination_addr: '447700900001' });
    const b = await submit(e, { destination_addr: '447700900002' });
    const resp = await e.request('cancel_sm', { source_addr: 'MyBrand', destination_addr: '447700900001' });
    expect(resp.command_status).toBe(0);
    expect(s.message(a)?.stat).toBe('DELETED');
    expect(s.message(b)?.stat).toBeUndefined();
    const none = await e.request('cancel_sm', { source_addr: 'Nobody' });
    expect(none.command_status).toBe(CommandStatus.ESME_RCANCELFAIL);
  });

  it('replace_sm replaces the text of a pending message, which its receipt then quotes', async () => {
    await sim({ receipts: { delayMs: 150 } });
    const e = await esme();
    const id = await submit(e, { registered_delivery: 0 });
    const resp = await e.request('replace_sm', {
      message_id: id,
      source_addr: 'MyBrand',
      registered_delivery: 1,
      short_message: Buffer.from('Replaced text'),
    });
    expect(resp).toMatchObject({ command: 'replace_sm_resp', command_status: 0 });
    const dlr = await waitFor(() => inbox(e)[0], 2_000, 'the receipt');
    expect(parseReceipt(dlr)).toMatchObject({ id, text: 'Replaced text' });
    const late = await e.request('replace_sm', { message_id: id, short_message: Buffer.from('x') });
    expect(late.command_status).toBe(CommandStatus.ESME_RREPLACEFAIL);
    const unknown = await e.request('replace_sm', { message_id: 'nope', short_message: Buffer.from('x') });
    expect(unknown.command_status).toBe(CommandStatus.ESME_RINVMSGID);
  });
});

describe('delivery receipts', () => {
  async function receiptsFor(
    finalState: 'DELIVRD' | 'UNDELIV',
    registeredDelivery: number,
  ): Promise<{ id: string; receipts: PduOf<'deliver_sm'>[] }> {
    const { sim: s } = await sim({ receipts: { delayMs: 10, finalState } });
    const e = await esme();
    const id = await submit(e, { registered_delivery: registeredDelivery });
    await waitFor(() => s.message(id)?.stat, 2_000, 'the final state');
    // A receipt, if one is due, was written when the state became final: before this round trip's answer.
    await e.probe();
    return { id, receipts: [...inbox(e)] };
  }

  it.each([
    [0, 'DELIVRD', 0],
    [1, 'DELIVRD', 1],
    [1, 'UNDELIV', 1],
    [2, 'DELIVRD', 0],
    [2, 'UNDELIV', 1],
    [3, 'DELIVRD', 1],
    [3, 'UNDELIV', 0],
  ] as const)('registered_delivery %i with final state %s sends %i receipt(s)', async (rd, state, count) => {
    const { receipts } = await receiptsFor(state, rd);
    expect(receipts).toHaveLength(count);
  });

  it('is a deliver_sm with esm_class 0x04, swapped addresses, Appendix B text and TLVs (reference §10.4)', async () => {
    const { id, receipts } = await receiptsFor('DELIVRD', 1);
    const dlr = receipts[0]!;
    expect(dlr).toMatchObject({
      esm_class: EsmClass.TYPE_DELIVERY_RECEIPT,
      data_coding: DataCoding.SMSC_DEFAULT,
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '447700900123',
      dest_addr_ton: 5,
      destination_addr: 'MyBrand',
    });
    expect(findTlv(dlr.tlvs, TlvTag.receipted_message_id)).toBe(id);
    expect(findTlv(dlr.tlvs, TlvTag.message_state)).toBe(MessageState.DELIVERED);
    const text = dlr.short_message.toString('latin1');
    expect(text).toMatch(
      new RegExp(
        `^id:${id} sub:001 dlvrd:001 submit date:\\d{10} done date:\\d{10} stat:DELIVRD err:000 text:Hello world, this is$`,
      ),
    );
    expect(parseReceipt(dlr)).toMatchObject({
      id,
      stat: 'DELIVRD',
      final: true,
      success: true,
      source: 'both',
      sub: 1,
      dlvrd: 1,
      err: '000',
      text: 'Hello world, this is',
    });
  });

  it('reports a failure with its err and a network_error_code', async () => {
    await sim({ receipts: { delayMs: 10, finalState: 'REJECTD', err: '011' } });
    const e = await esme();
    const id = await submit(e, { registered_delivery: 1 });
    const dlr = await waitFor(() => inbox(e)[0], 2_000, 'the receipt');
    expect(parseReceipt(dlr)).toMatchObject({
      id,
      stat: 'REJECTD',
      success: false,
      err: '011',
      dlvrd: 0,
      networkErrorCode: { type: 3, code: 11 },
    });
  });

  it('follows per-destination rules, first match wins', async () => {
    await sim({
      receipts: {
        delayMs: 10,
        rules: [
          { destination: '+447700900666', finalState: 'UNDELIV', err: '001' },
          { destination: '447700900777', finalState: 'EXPIRED', delayMs: 30 },
        ],
      },
    });
    const e = await esme();
    const ids = [
      await submit(e, { registered_delivery: 1, destination_addr: '447700900666' }),
      await submit(e, { registered_delivery: 1, destination_addr: '447700900777' }),
      await submit(e, { registered_delivery: 1, destination_addr: '447700900888' }),
    ];
    await waitFor(() => inbox(e).length === 3, 2_000, 'three receipts');
    const stats = new Map(inbox(e).map((d) => [receiptOf(d).id, receiptOf(d).stat]));
    expect(ids.map((id) => stats.get(id))).toEqual(['UNDELIV', 'EXPIRED', 'DELIVRD']);
  });

  it('expires a message whose validity_period ends before its outcome', async () => {
    await sim({ receipts: { delayMs: 5_000 } });
    const e = await esme();
    // Relative validity of zero: it ends now (reference §8.5).
    const id = await submit(e, { registered_delivery: 1, validity_period: '000000000000000R' });
    const dlr = await waitFor(() => inbox(e)[0], 2_000, 'the receipt');
    expect(parseReceipt(dlr)).toMatchObject({ id, stat: 'EXPIRED' });
  });

  it('quotes UCS-2 text as printable ASCII and skips a UDH', async () => {
    await sim();
    const e = await esme();
    const ucs2 = Buffer.from('Привет, мир', 'utf16le').swap16();
    await submit(e, { registered_delivery: 1, data_coding: DataCoding.UCS2, short_message: ucs2 });
    const udh = Buffer.concat([Buffer.from([5, 0, 3, 7, 2, 1]), Buffer.from('Part one')]);
    await submit(e, { registered_delivery: 1, esm_class: EsmClass.UDHI, short_message: udh });
    await waitFor(() => inbox(e).length === 2, 2_000, 'two receipts');
    const texts = inbox(e)
      .map((d) => receiptOf(d).text)
      .sort();
    expect(texts).toEqual(['??????, ???', 'Part one'].sort());
  });

  it('goes to a receiver session of the same system_id when the submit came over a transmitter', async () => {
    await sim();
    const tx = await esme({ systemId: 'shop', bindType: 'bind_transmitter' });
    const rx = await esme({ systemId: 'shop', bindType: 'bind_receiver' });
    const other = await esme({ systemId: 'other', bindType: 'bind_receiver' });
    const id = await submit(tx, { registered_delivery: 1 });
    const dlr = await waitFor(() => inbox(rx)[0], 2_000, 'the receipt');
    expect(receiptOf(dlr).id).toBe(id);
    expect(inbox(other)).toHaveLength(0);
  });

  it('survives the close of the submitting session', async () => {
    await sim({ receipts: { delayMs: 100 } });
    const tx = await esme({ systemId: 'shop', bindType: 'bind_transmitter' });
    const rx = await esme({ systemId: 'shop', bindType: 'bind_receiver' });
    const id = await submit(tx, { registered_delivery: 1 });
    await tx.close();
    const dlr = await waitFor(() => inbox(rx)[0], 2_000, 'the receipt');
    expect(receiptOf(dlr).id).toBe(id);
  });

  it('retries a receipt the ESME answers with ESME_RX_T_APPN, and one that found no receiver bound', async () => {
    const { sim: s } = await sim({ receipts: { delayMs: 10, retryDelayMs: 50, retries: 3 } });
    let refusals = 2;
    const e = await esme({
      onDeliver: () => (refusals-- > 0 ? CommandStatus.ESME_RX_T_APPN : 0),
    });
    const delivered: string[] = [];
    s.on('receipt', (r) => delivered.push(r.messageId));
    const id = await submit(e, { registered_delivery: 1 });
    await waitFor(() => delivered.length === 1, 3_000, 'the acknowledged receipt');
    expect(delivered).toEqual([id]);
    expect(inbox(e)).toHaveLength(3);
    expect(s.counters().receiptsSent).toBe(3);

    // A transmitter-only client: the receipt waits for a receiver to bind.
    const tx = await esme({ systemId: 'late', bindType: 'bind_transmitter' });
    const id2 = await submit(tx, { registered_delivery: 1 });
    await new Promise((r) => setTimeout(r, 60));
    const rx = await esme({ systemId: 'late', bindType: 'bind_receiver' });
    const dlr = await waitFor(() => inbox(rx)[0], 3_000, 'the late receipt');
    expect(receiptOf(dlr).id).toBe(id2);
  });

  it('retries a receipt that gets no answer, and gives up after `retries`', async () => {
    const { sim: s } = await sim({
      receipts: { delayMs: 10, retryDelayMs: 20, retries: 2, responseTimeoutMs: 50 },
    });
    const e = await esme({ onDeliver: () => CommandStatus.ESME_RX_T_APPN });
    await submit(e, { registered_delivery: 1 });
    await waitFor(() => inbox(e).length === 3, 3_000, 'three attempts');
    await new Promise((r) => setTimeout(r, 200));
    expect(inbox(e)).toHaveLength(3);
    expect(s.counters().receiptsSent).toBe(3);
  });

  it('does not retry a receipt refused for good (ESME_RX_P_APPN)', async () => {
    await sim({ receipts: { delayMs: 10, retryDelayMs: 20 } });
    const e = await esme({ onDeliver: () => CommandStatus.ESME_RX_P_APPN });
    await submit(e, { registered_delivery: 1 });
    await waitFor(() => inbox(e).length === 1, 2_000, 'the receipt');
    await new Promise((r) => setTimeout(r, 150));
    expect(inbox(e)).toHaveLength(1);
  });
});

describe('MO injection', () => {
  it('delivers to one receiving session per system_id, and counts the acknowledgements', async () => {
    const { sim: s } = await sim();
    const a1 = await esme({ systemId: 'a', bindType: 'bind_receiver' });
    const a2 = await esme({ systemId: 'a', bindType: 'bind_transceiver' });
    const b = await esme({ systemId: 'b' });
    await esme({ systemId: 'c', bindType: 'bind_transmitter' });
    expect(await s.injectMo({ from: '+447700900555', to: '12345', text: 'Hi there' })).toEqual({
      delivered: 2,
    });
    expect(inbox(a1).length + inbox(a2).length).toBe(1);
    const [mo] = inbox(b);
    expect(mo).toMatchObject({
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '447700900555',
      destination_addr: '12345',
      esm_class: 0,
      data_coding: DataCoding.SMSC_DEFAULT,
    });
    expect(decodeText(mo!.short_message, 0).text).toBe('Hi there');
  });

  it('targets one system_id when given, picks UCS-2 for text GSM cannot carry, and passes TLVs through', async () => {
    const { sim: s } = await sim();
    const a = await esme({ systemId: 'a' });
    const b = await esme({ systemId: 'b' });
    const result = await s.injectMo({
      from: 'Bank',
      to: '447700900123',
      text: 'Код 1234',
      systemId: 'b',
      tlvs: [{ tag: TlvTag.user_message_reference, value: 42 }],
    });
    expect(result.delivered).toBe(1);
    expect(inbox(a)).toHaveLength(0);
    const mo = inbox(b)[0]!;
    expect(mo).toMatchObject({ source_addr_ton: 5, source_addr: 'Bank', data_coding: DataCoding.UCS2 });
    expect(decodeText(mo.short_message, DataCoding.UCS2).text).toBe('Код 1234');
    expect(findTlv(mo.tlvs, TlvTag.user_message_reference)).toBe(42);
  });

  it('puts long text in message_payload', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    const text = 'x'.repeat(400);
    await s.injectMo({ from: '1', to: '2', text, dataCoding: DataCoding.LATIN1 });
    const mo = inbox(e)[0]!;
    expect(mo.short_message).toHaveLength(0);
    expect(tlvBytes(mo.tlvs, TlvTag.message_payload)?.toString('latin1')).toBe(text);
  });

  it('counts a refused MO as not delivered, and nobody bound as zero', async () => {
    const { sim: s } = await sim();
    expect(await s.injectMo({ from: '1', to: '2', text: 'x' })).toEqual({ delivered: 0 });
    await esme({ onDeliver: () => CommandStatus.ESME_RX_P_APPN });
    expect(await s.injectMo({ from: '1', to: '2', text: 'x' })).toEqual({ delivered: 0 });
  });

  it('rejects an MO it cannot send with a typed error', async () => {
    const { sim: s } = await sim();
    await expect(s.injectMo({ from: '', to: '2' })).rejects.toBeInstanceOf(SimulatorError);
    await expect(
      s.injectMo({ from: '1', to: '2', text: 'Код', dataCoding: DataCoding.SMSC_DEFAULT }),
    ).rejects.toMatchObject({
      code: 'SMPP_ERR_SIM_INVALID_INPUT',
      issues: [{ path: 'text' }],
    });
  });

  it('skips a blackholed session', async () => {
    const { sim: s } = await sim();
    const a = await esme({ systemId: 'a' });
    await esme({ systemId: 'b' });
    s.setFault({ kind: 'blackhole' }, { systemId: 'a' });
    expect(await s.injectMo({ from: '1', to: '2', text: 'x' })).toEqual({ delivered: 1 });
    expect(inbox(a)).toHaveLength(0);
  });
});
