/**
 * The simulator's message-path cases for outbound messages (cases.ts), each as an ESME sees it
 * over a real loopback socket, with the simulator on a fake clock: every upper time bound (a
 * response held for a minute, a receipt 5 s after the previous one, a throttle window) is checked
 * exactly, "nothing yet" after the clock stopped one millisecond short; bytes are awaited.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CommandStatus } from '../../src/protocol/command-status.js';
import { MessageState, TlvTag } from '../../src/protocol/constants.js';
import type { Pdu, PduOf } from '../../src/protocol/pdu.js';
import { findTlv } from '../../src/protocol/tlv.js';
import type { SmppSession } from '../../src/session/session.js';
import { checkAccounts } from '../../src/simulator/accounts.js';
import { fakeClockSimulator, watch } from '../helpers/fake-clock-simulator.js';
import { inbox, waitFor } from '../helpers/simulator.js';

const h = fakeClockSimulator({
  sim: { receipts: { delayMs: 1_000 } },
  esme: { systemId: 'acme', responseTimeoutMs: 60_000 },
});
afterEach(() => h.close());
const { sim, esme } = h;

function submit(e: SmppSession, init: Partial<PduOf<'submit_sm'>> = {}): Promise<Pdu> {
  return e.request('submit_sm', {
    source_addr: 'Brand',
    source_addr_ton: 5,
    destination_addr: '447700900123',
    registered_delivery: 1,
    short_message: Buffer.from('hi'),
    ...init,
  } as Parameters<SmppSession['request']>[1]);
}

/** Lets loopback bytes arrive (real time) without moving the simulator's clock. */
const settle = (ms = 50) => new Promise((r) => setTimeout(r, ms));

const receiptId = (pdu: PduOf<'deliver_sm'>) => String(findTlv(pdu.tlvs, TlvTag.receipted_message_id));
const messageId = (pdu: Pdu) => (pdu as PduOf<'submit_sm_resp'>).message_id;

/** A part of a concatenated message with an 8-bit reference UDH. */
function udhPart(ref: number, total: number, seq: number, text: string): Partial<PduOf<'submit_sm'>> {
  return {
    esm_class: 0x40,
    short_message: Buffer.concat([Buffer.from([5, 0, 3, ref, total, seq]), Buffer.from(text)]),
  };
}

describe('receipt_before_resp', () => {
  it('writes the receipt first and the submit_sm_resp respDelayMs later', async () => {
    const { sim: s } = await sim();
    const order: string[] = [];
    const e = await esme({
      onDeliver: () => {
        order.push('receipt');
        return 0;
      },
    });
    s.setCase({ kind: 'receipt_before_resp', respDelayMs: 60_000 }, { systemId: 'acme' });
    const resp = watch(
      submit(e).then((r) => {
        order.push('resp');
        return r;
      }),
    );
    await waitFor(() => inbox(e).length === 1, 3_000, 'the receipt');
    h.clock.advance(59_999);
    await settle();
    expect(resp.done()).toBe(false);
    h.clock.advance(1);
    const answer = await resp.value;
    expect(order).toEqual(['receipt', 'resp']);
    expect(receiptId(inbox(e)[0]!)).toBe(messageId(answer));
    expect(s.message(messageId(answer))).toMatchObject({ stat: 'DELIVRD' });
  });

  it('with no delay still writes the receipt before the response on the same connection', async () => {
    const { sim: s } = await sim();
    const order: string[] = [];
    const e = await esme({
      onDeliver: () => {
        order.push('receipt');
        return 0;
      },
    });
    s.setCase({ kind: 'receipt_before_resp' });
    await submit(e).then(() => order.push('resp'));
    expect(order).toEqual(['receipt', 'resp']);
  });
});

describe('reverse_parts', () => {
  it('holds the answers until the set is complete, then answers the last part first', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    s.setCase({ kind: 'reverse_parts' }, { destinationPrefix: '4477' });
    const answered: number[] = [];
    const part = (seq: number) =>
      watch(
        submit(e, udhPart(9, 3, seq, `part ${seq}`)).then(() => {
          answered.push(seq);
        }),
      );
    const p1 = part(1);
    const p2 = part(2);
    await waitFor(() => s.messages().length === 2, 3_000, 'two parts stored');
    await settle();
    expect(p1.done() || p2.done()).toBe(false);
    const p3 = part(3);
    await Promise.all([p1.value, p2.value, p3.value]);
    expect(answered).toEqual([3, 2, 1]);
    expect(s.messages().map((m) => m.concat)).toEqual([
      { method: 'udh8', reference: 9, total: 3, seq: 1 },
      { method: 'udh8', reference: 9, total: 3, seq: 2 },
      { method: 'udh8', reference: 9, total: 3, seq: 3 },
    ]);
    // Another destination and single messages are answered at once.
    await submit(e, { destination_addr: '33600000000', ...udhPart(10, 2, 1, 'x') });
    await submit(e);
  });

  it('answers an incomplete set, reversed, after holdTimeoutMs', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    s.setCase({ kind: 'reverse_parts', holdTimeoutMs: 30_000 });
    const answered: number[] = [];
    const sar = (seq: number) =>
      watch(
        submit(e, {
          short_message: Buffer.from(`p${seq}`),
          tlvs: [
            { tag: TlvTag.sar_msg_ref_num, value: 0x1234 },
            { tag: TlvTag.sar_total_segments, value: 3 },
            { tag: TlvTag.sar_segment_seqnum, value: seq },
          ],
        }).then(() => answered.push(seq)),
      );
    const a = sar(1);
    const b = sar(2);
    await waitFor(() => s.messages().length === 2, 3_000, 'two parts stored');
    h.clock.advance(29_999);
    await settle();
    expect(a.done() || b.done()).toBe(false);
    h.clock.advance(1);
    await Promise.all([a.value, b.value]);
    expect(answered).toEqual([2, 1]);
    expect(s.messages()[0]?.concat).toEqual({ method: 'sar', reference: 0x1234, total: 3, seq: 1 });
  });
});

describe('id_format', () => {
  it('answers hex ids and sends decimal receipts with leading zeros, one number behind both', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    s.setCase({ kind: 'id_format', submit: 'hex', receipt: 'decimal', receiptLeadingZeros: 3 });
    const id = messageId(await submit(e));
    expect(id).toMatch(/^[0-9a-f]+$/);
    h.clock.advance(1_000);
    await waitFor(() => inbox(e).length === 1, 3_000, 'the receipt');
    const receipt = inbox(e)[0]!;
    const expected = `000${BigInt(`0x${id}`).toString(10)}`;
    expect(receiptId(receipt)).toBe(expected);
    expect(receipt.short_message.toString('latin1')).toContain(`id:${expected} `);
    // query_sm takes the id the response gave.
    const q = (await e.request('query_sm', {
      message_id: id,
      source_addr: 'Brand',
      source_addr_ton: 5,
    })) as PduOf<'query_sm_resp'>;
    expect(q.command_status).toBe(0);
    expect(q.message_state).toBe(MessageState.DELIVERED);
  });

  it('answers decimal ids with leading zeros and sends hex receipts', async () => {
    const { sim: s } = await sim({ messageIdFormat: 'decimal' });
    const e = await esme();
    s.setCase({ kind: 'id_format', submit: 'decimal', receipt: 'hex', submitLeadingZeros: 2 });
    const id = messageId(await submit(e));
    expect(id).toMatch(/^00[1-9]\d*$/);
    h.clock.advance(1_000);
    await waitFor(() => inbox(e).length === 1, 3_000, 'the receipt');
    expect(receiptId(inbox(e)[0]!)).toBe(BigInt(id).toString(16));
  });
});

describe('receipt_other_bind', () => {
  it('sends the receipts on another bind of the account than the one that submitted', async () => {
    const { sim: s } = await sim();
    const trx = await esme();
    const rx = await esme({ bindType: 'bind_receiver' });
    s.setCase({ kind: 'receipt_other_bind' }, { systemId: 'acme' });
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push(messageId(await submit(trx)));
    h.clock.advance(1_000);
    await waitFor(() => inbox(rx).length === 4, 3_000, 'four receipts on the receiver');
    expect(inbox(trx)).toHaveLength(0);
    expect(inbox(rx).map(receiptId).sort()).toEqual([...ids].sort());
  });
});

describe('throttle', () => {
  it('answers ESME_RTHROTTLED above tps, and lets one more through as tokens come back', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    s.setCase({ kind: 'throttle', tps: 2 }, { destinationPrefix: '+44' });
    const statuses = async (n: number, dest = '447700900123') => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await submit(e, { destination_addr: dest })).command_status);
      return out;
    };
    expect(await statuses(3)).toEqual([0, 0, CommandStatus.ESME_RTHROTTLED]);
    expect(await statuses(2, '33600000000')).toEqual([0, 0]);
    h.clock.advance(499);
    expect(await statuses(1)).toEqual([CommandStatus.ESME_RTHROTTLED]);
    h.clock.advance(1);
    expect(await statuses(2)).toEqual([0, CommandStatus.ESME_RTHROTTLED]);
    expect(s.messages()).toHaveLength(5);
  });

  it('throttles burstCount submits at the start of every period, with the status asked', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    s.setCase({ kind: 'throttle', periodMs: 10_000, burstCount: 2, status: CommandStatus.ESME_RMSGQFUL });
    const one = async () => (await submit(e)).command_status;
    expect([await one(), await one(), await one()]).toEqual([
      CommandStatus.ESME_RMSGQFUL,
      CommandStatus.ESME_RMSGQFUL,
      0,
    ]);
    h.clock.advance(9_999);
    expect(await one()).toBe(0);
    h.clock.advance(1);
    expect([await one(), await one(), await one()]).toEqual([
      CommandStatus.ESME_RMSGQFUL,
      CommandStatus.ESME_RMSGQFUL,
      0,
    ]);
  });

  it('throttles everything during the first burstMs of every period', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    s.setCase({ kind: 'throttle', periodMs: 10_000, burstMs: 2_000 });
    const one = async () => (await submit(e)).command_status;
    expect([await one(), await one()]).toEqual([
      CommandStatus.ESME_RTHROTTLED,
      CommandStatus.ESME_RTHROTTLED,
    ]);
    h.clock.advance(1_999);
    expect(await one()).toBe(CommandStatus.ESME_RTHROTTLED);
    h.clock.advance(1);
    expect(await one()).toBe(0);
    h.clock.advance(8_000);
    expect(await one()).toBe(CommandStatus.ESME_RTHROTTLED);
  });
});

describe('receipts', () => {
  it('sends duplicate and out-of-order receipts, gapMs apart, in the order listed', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    s.setCase({ kind: 'receipts', stats: ['DELIVRD', 'ENROUTE', 'DELIVRD'], gapMs: 5_000 });
    const id = messageId(await submit(e));
    h.clock.advance(1_000);
    await waitFor(() => inbox(e).length === 1, 3_000, 'the first receipt');
    h.clock.advance(4_999);
    await settle();
    expect(inbox(e)).toHaveLength(1);
    h.clock.advance(1);
    await waitFor(() => inbox(e).length === 2, 3_000, 'the second receipt');
    h.clock.advance(5_000);
    await waitFor(() => inbox(e).length === 3, 3_000, 'the third receipt');
    expect(inbox(e).map((r) => findTlv(r.tlvs, TlvTag.message_state))).toEqual([
      MessageState.DELIVERED,
      MessageState.ENROUTE,
      MessageState.DELIVERED,
    ]);
    expect(inbox(e).map(receiptId)).toEqual([id, id, id]);
    expect(inbox(e)[1]!.short_message.toString('latin1')).toContain('stat:ENROUTE');
    expect(s.deliveryRecords({ kind: 'receipt' }).map((r) => [r.stat, r.outcome])).toEqual([
      ['DELIVRD', 'ok'],
      ['ENROUTE', 'ok'],
      ['DELIVRD', 'ok'],
    ]);
  });
});

describe('no_response', () => {
  it('stores every message, never answers share of them, and still sends their receipts', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    s.setCase({ kind: 'no_response', share: 0.5 });
    const submits = [1, 2, 3, 4].map(() => watch(submit(e)));
    await waitFor(() => s.messages().length === 4, 3_000, 'four messages stored');
    await Promise.all([submits[1]!.value, submits[3]!.value]);
    h.clock.advance(1_000);
    await waitFor(() => inbox(e).length === 4, 3_000, 'four receipts');
    await settle();
    expect(submits.map((x) => x.done())).toEqual([false, true, false, true]);
    expect(s.messages().map((m) => m.responded)).toEqual([false, true, false, true]);
  });

  it('with receipt: false sends no receipt for the messages it does not answer', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    s.setCase({ kind: 'no_response', receipt: false }, { destinationPrefix: '33' });
    const lost = watch(submit(e, { destination_addr: '33600000000' }));
    const id = messageId(await submit(e));
    await waitFor(() => s.messages().length === 2, 3_000, 'two messages stored');
    h.clock.advance(1_000);
    await waitFor(() => inbox(e).length === 1, 3_000, 'one receipt');
    await settle();
    expect(inbox(e).map(receiptId)).toEqual([id]);
    expect(lost.done()).toBe(false);
  });
});

describe('cases in accounts', () => {
  it('switches an account’s cases on from its config, scoped to a destination prefix', async () => {
    const checked = checkAccounts([
      {
        systemId: 'acme',
        password: 'pw',
        cases: [{ kind: 'throttle', tps: 1, status: 'ESME_RMSGQFUL', destinationPrefix: '44' }],
      },
    ]);
    expect(checked.issues).toEqual([]);
    const { sim: s } = await sim({ accounts: checked.accounts! });
    expect(s.cases()).toEqual([
      {
        id: 1,
        case: { kind: 'throttle', tps: 1, status: CommandStatus.ESME_RMSGQFUL },
        scope: { systemId: 'acme', destinationPrefix: '44' },
      },
    ]);
    const e = await esme({ password: 'pw' });
    expect((await submit(e)).command_status).toBe(0);
    expect((await submit(e)).command_status).toBe(CommandStatus.ESME_RMSGQFUL);
    expect((await submit(e, { destination_addr: '33600000000' })).command_status).toBe(0);
  });

  it('reports a bad case of an account with its path', () => {
    const checked = checkAccounts([
      { systemId: 'acme', password: 'pw', cases: [{ kind: 'throttle' }, { kind: 'nope' }] },
    ]);
    expect(checked.accounts).toBeUndefined();
    expect(checked.issues.map((i) => i.path)).toEqual(['[0].cases[0]', '[0].cases[1].kind']);
  });
});
