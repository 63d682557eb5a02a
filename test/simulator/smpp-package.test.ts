/**
 * An independent client against our simulator: the `smpp` npm package (node-smpp 0.5.1) binds,
 * sends and answers enquire_link, submits, receives its delivery receipt and an MO, sees a
 * fault's status, and unbinds — all over loopback with real sockets.
 */
import smpp from 'smpp';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandStatus } from '../../src/protocol/command-status.js';
import { parseReceipt } from '../../src/protocol/receipt.js';
import { type StartedSimulator, startSimulator, waitFor } from '../helpers/simulator.js';

let started: StartedSimulator | undefined;
const clients: smpp.Session[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await started?.close();
  started = undefined;
});

interface Client {
  session: smpp.Session;
  /** Sends a request built by the package and resolves with the response PDU. */
  call(command: string, fields?: Record<string, unknown>): Promise<smpp.PDU>;
  /** deliver_sm received (each already answered with deliver_sm_resp status 0). */
  delivered: smpp.PDU[];
  /** enquire_link received from the simulator (each answered). */
  probes: smpp.PDU[];
  closed: Promise<void>;
}

async function client(port: number): Promise<Client> {
  const session = await new Promise<smpp.Session>((resolve, reject) => {
    const s = smpp.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.on('error', reject);
  });
  clients.push(session);
  const delivered: smpp.PDU[] = [];
  const probes: smpp.PDU[] = [];
  session.on('deliver_sm', (pdu: smpp.PDU) => {
    delivered.push(pdu);
    session.send(pdu.response());
  });
  // node-smpp does not answer enquire_link by itself.
  session.on('enquire_link', (pdu: smpp.PDU) => {
    probes.push(pdu);
    session.send(pdu.response());
  });
  const closed = new Promise<void>((resolve) => session.on('close', () => resolve()));
  const call = (command: string, fields: Record<string, unknown> = {}): Promise<smpp.PDU> =>
    new Promise((resolve) => session.send(new smpp.PDU(command, fields), resolve));
  return { session, call, delivered, probes, closed };
}

describe('the smpp package client against the simulator', () => {
  it('binds, enquires, submits, gets its receipt, and unbinds', async () => {
    started = await startSimulator({ receipts: { delayMs: 20 } });
    const c = await client(started.port);
    const bind = await c.call('bind_transceiver', { system_id: 'node', password: 'pw' });
    expect(bind).toMatchObject({ command: 'bind_transceiver_resp', command_status: 0, system_id: 'SMPPSIM' });
    expect(bind.sc_interface_version).toBe(0x34);

    const el = await c.call('enquire_link');
    expect(el).toMatchObject({ command: 'enquire_link_resp', command_status: 0, command_length: 16 });

    const resp = await c.call('submit_sm', {
      source_addr: 'NodeApp',
      source_addr_ton: 5,
      destination_addr: '447700900123',
      destination_addr_ton: 1,
      registered_delivery: 1,
      short_message: 'Hello from node-smpp',
    });
    expect(resp.command_status).toBe(0);
    const messageId = resp.message_id as string;
    expect(messageId).toMatch(/^[0-9a-f]{16}$/);

    await waitFor(() => c.delivered.length === 1, 3_000, 'the receipt');
    const dlr = c.delivered[0]!;
    expect(dlr).toMatchObject({
      esm_class: 0x04,
      source_addr: '447700900123',
      destination_addr: 'NodeApp',
      receipted_message_id: messageId,
      message_state: 2,
    });
    const text = (dlr.short_message as { message: string }).message;
    expect(parseReceipt({ short_message: text })).toMatchObject({
      id: messageId,
      stat: 'DELIVRD',
      text: 'Hello from node-smpp',
    });
    await waitFor(() => started!.sim.counters().in.deliver_sm_resp === 1, 2_000, 'the receipt acknowledged');

    const unbind = await c.call('unbind');
    expect(unbind).toMatchObject({ command: 'unbind_resp', command_status: 0 });
    await c.closed;
    await waitFor(() => started!.sim.sessions().length === 0, 2_000, 'the session to go');
  });

  it("answers the simulator's own enquire_link and receives an injected MO", async () => {
    started = await startSimulator({ enquireLinkIntervalMs: 50 });
    const c = await client(started.port);
    await c.call('bind_receiver', { system_id: 'node-rx', password: 'pw' });
    await waitFor(() => c.probes.length >= 2, 3_000, 'two enquire_link from the simulator');
    await waitFor(() => (started!.sim.counters().in.enquire_link_resp ?? 0) >= 2, 2_000, 'the answers');
    expect(started.sim.sessions()[0]?.state).toBe('bound_rx');

    const result = await started.sim.injectMo({ from: '447700900555', to: '12345', text: 'Reply YES' });
    expect(result).toEqual({ delivered: 1 });
    const mo = c.delivered[0]!;
    expect(mo).toMatchObject({ source_addr: '447700900555', destination_addr: '12345', esm_class: 0 });
    expect((mo.short_message as { message: string }).message).toBe('Reply YES');
  });

  it('sees the statuses faults give, and a refused bind', async () => {
    started = await startSimulator({ accounts: [{ systemId: 'node', password: 'pw' }] });
    const bad = await client(started.port);
    const refused = await bad.call('bind_transmitter', { system_id: 'node', password: 'wrong' });
    expect(refused.command_status).toBe(CommandStatus.ESME_RINVPASWD);

    const c = await client(started.port);
    await c.call('bind_transmitter', { system_id: 'node', password: 'pw' });
    started.sim.setFault({ kind: 'throttle', maxPerSecond: 0 });
    const throttled = await c.call('submit_sm', { destination_addr: '447700900123', short_message: 'x' });
    expect(throttled.command_status).toBe(CommandStatus.ESME_RTHROTTLED);
    started.sim.clearFault();
    started.sim.setFault({ kind: 'generic_nack', status: CommandStatus.ESME_RSYSERR });
    const nacked = await c.call('submit_sm', { destination_addr: '447700900123', short_message: 'x' });
    expect(nacked).toMatchObject({ command: 'generic_nack', command_status: CommandStatus.ESME_RSYSERR });
    started.sim.clearFault();
    const ok = await c.call('submit_sm', { destination_addr: '447700900123', short_message: 'x' });
    expect(ok.command_status).toBe(0);
  });
});
