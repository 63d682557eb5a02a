/**
 * Binding to the simulator: accounts and every refusal (reference §3.3), the open mode without
 * accounts, version negotiation, events, the session list, and the simulator's own
 * enquire_link answered by our session.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CommandStatus } from '../../src/protocol/command-status.js';
import { TlvTag } from '../../src/protocol/constants.js';
import { createPdu } from '../../src/protocol/pdu.js';
import { findTlv } from '../../src/protocol/tlv.js';
import { SmppBindError } from '../../src/session/errors.js';
import type { SmppSession } from '../../src/session/session.js';
import { SimulatorError } from '../../src/simulator/errors.js';
import { createSimulator, type SimAccount, type SimulatorOptions } from '../../src/simulator/simulator.js';
import {
  closeReason,
  connectEsme,
  type EsmeOptions,
  openEsme,
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
  started = await startSimulator(options);
  return started;
}

async function esme(options: EsmeOptions = {}): Promise<SmppSession> {
  const e = await connectEsme(started!.port, options);
  esmes.push(e);
  return e;
}

async function refusal(options: EsmeOptions): Promise<SmppBindError> {
  const e = await openEsme(started!.port);
  esmes.push(e);
  const error = await e
    .bind(options.bindType ?? 'bind_transceiver', {
      system_id: options.systemId ?? 'esme',
      password: options.password ?? 'secret',
    })
    .then(
      () => undefined,
      (err: unknown) => err,
    );
  expect(error).toBeInstanceOf(SmppBindError);
  // A refused bind leaves the connection open (the ESME decides to close).
  expect(e.state).toBe('open');
  return error as SmppBindError;
}

const ACCOUNTS: SimAccount[] = [
  { systemId: 'alice', password: 'pw1' },
  { systemId: 'tx-only', password: 'pw2', bindTypes: ['transmitter'] },
  { systemId: 'one', password: 'pw3', maxBinds: 1 },
  { systemId: 'two', password: 'pw4', maxBinds: 2, overLimitStatus: CommandStatus.ESME_RBINDFAIL },
];

describe('accounts', () => {
  it('binds an account with its password, in each bind type', async () => {
    await sim({ accounts: ACCOUNTS });
    for (const bindType of ['bind_transmitter', 'bind_receiver', 'bind_transceiver'] as const) {
      const e = await esme({ systemId: 'alice', password: 'pw1', bindType });
      expect(e.state).toBe(
        { bind_transmitter: 'bound_tx', bind_receiver: 'bound_rx', bind_transceiver: 'bound_trx' }[bindType],
      );
    }
  });

  it('refuses an unknown system_id with ESME_RINVSYSID', async () => {
    await sim({ accounts: ACCOUNTS });
    expect((await refusal({ systemId: 'mallory', password: 'pw1' })).commandStatus).toBe(
      CommandStatus.ESME_RINVSYSID,
    );
  });

  it('refuses a wrong password with ESME_RINVPASWD', async () => {
    await sim({ accounts: ACCOUNTS });
    expect((await refusal({ systemId: 'alice', password: 'nope' })).commandStatus).toBe(
      CommandStatus.ESME_RINVPASWD,
    );
    expect((await refusal({ systemId: 'alice', password: '' })).commandStatus).toBe(
      CommandStatus.ESME_RINVPASWD,
    );
  });

  it('refuses a bind type the account does not allow with ESME_RBINDFAIL', async () => {
    await sim({ accounts: ACCOUNTS });
    const error = await refusal({ systemId: 'tx-only', password: 'pw2', bindType: 'bind_transceiver' });
    expect(error.commandStatus).toBe(CommandStatus.ESME_RBINDFAIL);
    expect(error.retriable).toBe(false);
    await esme({ systemId: 'tx-only', password: 'pw2', bindType: 'bind_transmitter' });
  });

  it('refuses binds over maxBinds with ESME_RALYBND, or the account overLimitStatus', async () => {
    const { sim: s } = await sim({ accounts: ACCOUNTS });
    const first = await esme({ systemId: 'one', password: 'pw3' });
    expect((await refusal({ systemId: 'one', password: 'pw3' })).commandStatus).toBe(
      CommandStatus.ESME_RALYBND,
    );
    await esme({ systemId: 'two', password: 'pw4' });
    await esme({ systemId: 'two', password: 'pw4' });
    expect((await refusal({ systemId: 'two', password: 'pw4' })).commandStatus).toBe(
      CommandStatus.ESME_RBINDFAIL,
    );
    // A slot frees up when a bind ends.
    await first.close();
    await waitFor(() => s.sessions().filter((x) => x.systemId === 'one').length === 0, 2_000, 'the unbind');
    await esme({ systemId: 'one', password: 'pw3' });
  });

  it('rejects invalid accounts at construction with key paths', async () => {
    const error = (() => {
      try {
        createSimulator({
          accounts: [
            { systemId: '', password: 'x' },
            { systemId: 'a', password: 'toolongpassword' },
            { systemId: 'b', password: 'x', bindTypes: ['sideways' as never] },
          ],
        });
      } catch (err) {
        return err as SimulatorError;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(SimulatorError);
    expect(error?.issues.map((i) => i.path)).toEqual([
      'accounts[0].systemId',
      'accounts[1].password',
      'accounts[2].bindTypes[0]',
    ]);
  });
});

describe('without accounts', () => {
  it('binds any system_id and password', async () => {
    await sim();
    const e = await esme({ systemId: 'whoever', password: 'whatever' });
    expect(e.bound).toBe(true);
    expect(e.peerSystemId).toBe('SMPPSIM');
  });

  it('says so in its log at info', async () => {
    const lines: string[] = [];
    const logger = {
      trace: () => {},
      debug: () => {},
      info: (a: unknown, b?: unknown) => lines.push(String(typeof a === 'string' ? a : b)),
      warn: () => {},
      error: () => {},
      child: () => logger,
    };
    await sim({ logger });
    expect(lines.some((l) => /any system_id and password/.test(l))).toBe(true);
  });
});

describe('bind details', () => {
  it('announces sc_interface_version 0x34 to a 3.4 client and nothing to a 3.3 one (reference §4.11)', async () => {
    await sim({ systemId: 'SIM-1' });
    const e34 = await openEsme(started!.port);
    esmes.push(e34);
    const resp = await e34.bind('bind_transceiver', { system_id: 'a', password: 'b' });
    expect(findTlv(resp.tlvs, TlvTag.sc_interface_version)).toBe(0x34);
    expect((resp as { system_id: string }).system_id).toBe('SIM-1');
    const e33 = await openEsme(started!.port);
    esmes.push(e33);
    const old = await e33.bind('bind_transmitter', {
      system_id: 'a',
      password: 'b',
      interface_version: 0x33,
    });
    expect(old.tlvs).toEqual([]);
  });

  it('answers a second bind on a bound session with ESME_RALYBND', async () => {
    await sim();
    const e = await esme();
    // Our ESME will not send a second bind through bind(): write it as a crafted PDU.
    const answered = new Promise<unknown>((resolve) => e.once('unexpected', ({ pdu }) => resolve(pdu)));
    e.send(createPdu('bind_transceiver', { sequence_number: 99, system_id: 'x', password: 'y' }));
    expect(await answered).toMatchObject({
      command: 'bind_transceiver_resp',
      command_status: CommandStatus.ESME_RALYBND,
    });
  });

  it('emits session, bind and unbind events, and lists sessions with their counters', async () => {
    const { sim: s } = await sim();
    const events: string[] = [];
    s.on('session', (info) => events.push(`session ${info.id} ${info.state}`));
    s.on('bind', (b) => events.push(`bind ${b.systemId} ${b.bindType} ${b.sessionId}`));
    s.on('unbind', (u) => events.push(`unbind ${u.systemId} ${u.reason}`));
    const e = await esme({ systemId: 'ev', bindType: 'bind_receiver' });
    const [info] = s.sessions();
    expect(info).toMatchObject({
      systemId: 'ev',
      bindType: 'receiver',
      state: 'bound_rx',
      tls: false,
      counters: { in: { bind_receiver: 1 }, out: { bind_receiver_resp: 1 } },
    });
    expect(info?.remote).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(Date.parse(info?.since ?? '')).toBeGreaterThan(Date.now() - 10_000);
    await e.close();
    await waitFor(() => s.sessions().length === 0, 2_000, 'the session to go');
    expect(events).toEqual([
      `session ${info?.id} open`,
      `bind ev receiver ${info?.id}`,
      'unbind ev peer_unbind',
    ]);
    expect(s.counters()).toMatchObject({
      binds: 1,
      in: { bind_receiver: 1, unbind: 1 },
      out: { unbind_resp: 1 },
    });
  });

  it('closes a connection that does not bind within sessionInitTimeoutMs', async () => {
    const { sim: s } = await sim({ sessionInitTimeoutMs: 100 });
    const e = await openEsme(started!.port);
    esmes.push(e);
    expect(await closeReason(e)).toBe('peer_closed');
    expect(s.sessions()).toEqual([]);
  });

  it('answers submit_sm on a receiver bind with ESME_RINVBNDSTS (wrong state)', async () => {
    await sim();
    const e = await esme({ bindType: 'bind_receiver' });
    const answered = new Promise<unknown>((resolve) => e.once('unexpected', ({ pdu }) => resolve(pdu)));
    e.send(
      createPdu('submit_sm', { sequence_number: 7, destination_addr: '1', short_message: Buffer.from('x') }),
    );
    expect(await answered).toMatchObject({
      command: 'submit_sm_resp',
      command_status: CommandStatus.ESME_RINVBNDSTS,
    });
  });
});

describe("the simulator's own enquire_link", () => {
  it('probes bound clients after enquireLinkIntervalMs of silence; our session answers', async () => {
    const { sim: s } = await sim({ enquireLinkIntervalMs: 50 });
    const e = await esme();
    await waitFor(() => (e.pdusIn.enquire_link ?? 0) >= 2, 2_000, 'two enquire_link from the simulator');
    expect(e.pdusOut.enquire_link_resp).toBeGreaterThanOrEqual(2);
    await waitFor(() => (s.counters().in.enquire_link_resp ?? 0) >= 2, 2_000, 'the answers');
    expect(e.bound).toBe(true);
  });

  it('is off by default', async () => {
    await sim();
    const e = await esme();
    await new Promise((r) => setTimeout(r, 150));
    expect(e.pdusIn.enquire_link).toBeUndefined();
  });
});

describe('peak binds per system_id', () => {
  it('counts the most sessions bound at once per account, not binds over time', async () => {
    const s = await sim();
    const first = await esme({ systemId: 'acme' });
    await first.close();
    await waitFor(() => s.sim.sessions().length === 0, 5_000, 'the first session gone');
    await esme({ systemId: 'acme' });
    await esme({ systemId: 'other' });
    expect(s.sim.bindPeaks()).toEqual({ acme: 1, other: 1 });
    // A second ESME with the same account while the first is bound: two at once.
    await esme({ systemId: 'acme', bindType: 'bind_receiver' });
    expect(s.sim.bindPeaks({ reset: true })).toEqual({ acme: 2, other: 1 });
    expect(s.sim.bindPeaks()).toEqual({});
  });

  it('tells sessions of one account through distinct local addresses (replicas) from several through one', async () => {
    // Listening on every address, so each "replica" reaches it through its own loopback address.
    const s = await sim({ host: '0.0.0.0' });
    await esme({ systemId: 'acme', host: '127.0.0.1' });
    await esme({ systemId: 'solo', host: '127.0.0.2' });
    // One replica binding again while its first session is still bound: two through one origin.
    const retry = await esme({ systemId: 'solo', host: '127.0.0.2' });
    retry.destroy();
    await waitFor(() => s.sim.sessions().length === 2, 5_000, 'the retry gone');
    expect(s.sim.bindPeakDetail()).toEqual({
      acme: { sessions: 1, origins: 1, perOrigin: 1 },
      solo: { sessions: 2, origins: 1, perOrigin: 2 },
    });
    // A second replica bound with the same account: two origins at once.
    await esme({ systemId: 'acme', host: '127.0.0.3' });
    expect(s.sim.bindPeakDetail({ reset: true })).toEqual({
      acme: { sessions: 2, origins: 2, perOrigin: 1 },
      solo: { sessions: 2, origins: 1, perOrigin: 2 },
    });
    // The plain peaks are the same sessions counted, and reset clears both.
    expect(s.sim.bindPeaks()).toEqual({});
    expect(s.sim.bindPeakDetail()).toEqual({});
  });
});
