/**
 * Every fault of the catalogue, seen from our own ESME session over loopback: what it observes
 * (timeouts, statuses, nacks, closes with their reason, stray responses, lost framing) and that
 * the next request works again once the fault is cleared.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CommandStatus } from '../../src/protocol/command-status.js';
import { SmppDecodeError } from '../../src/protocol/errors.js';
import type { Pdu } from '../../src/protocol/pdu.js';
import {
  SmppBindError,
  SmppConnectionClosedError,
  SmppResponseTimeoutError,
} from '../../src/session/errors.js';
import type { SmppSession } from '../../src/session/session.js';
import { SimulatorError } from '../../src/simulator/errors.js';
import type { Fault } from '../../src/simulator/faults.js';
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

async function sim(options: Parameters<typeof startSimulator>[0] = {}): Promise<StartedSimulator> {
  started = await startSimulator({ receipts: { delayMs: 10 }, ...options });
  return started;
}

async function esme(options: EsmeOptions = {}): Promise<SmppSession> {
  if (!started) throw new Error('no simulator');
  const e = await connectEsme(started.port, { responseTimeoutMs: 15_000, ...options });
  esmes.push(e);
  return e;
}

function submit(e: SmppSession, to = '447700900123', timeoutMs?: number): Promise<Pdu> {
  return e.request(
    'submit_sm',
    { source_addr: 'Brand', source_addr_ton: 5, destination_addr: to, short_message: Buffer.from('hi') },
    timeoutMs === undefined ? {} : { timeoutMs },
  );
}

async function expectWorks(e: SmppSession): Promise<void> {
  const resp = await submit(e);
  expect(resp).toMatchObject({ command: 'submit_sm_resp', command_status: 0 });
  expect((resp as { message_id: string }).message_id).toMatch(/^[0-9a-f]{16}$/);
}

function elapsed(t0: number): number {
  return performance.now() - t0;
}

describe('delay', () => {
  it('holds every answer for ms, and answers at once again when cleared', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    const id = s.setFault({ kind: 'delay', ms: 250 });
    const t0 = performance.now();
    await expectWorks(e);
    expect(elapsed(t0)).toBeGreaterThanOrEqual(240);
    const probe = await e.probe();
    expect(probe.rttMs).toBeGreaterThanOrEqual(240);
    // Answered at once again when cleared: test/simulator/clock.test.ts (on a fake clock).
    s.clearFault(id);
    await expectWorks(e);
  });

  it('past the ESME response timeout: a timeout, then the late answer is dropped as unexpected', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    s.setFault({ kind: 'delay', ms: 200 });
    const stray = new Promise<{ pdu: Pdu; reason: string }>((resolve) => e.once('unexpected', resolve));
    await expect(submit(e, '447700900123', 50)).rejects.toBeInstanceOf(SmppResponseTimeoutError);
    const late = await stray;
    expect(late.pdu.command).toBe('submit_sm_resp');
    expect(e.bound).toBe(true);
  });

  it('delays bind_resp too', async () => {
    const { sim: s, port } = await sim();
    s.setFault({ kind: 'delay', ms: 150 });
    const t0 = performance.now();
    const e = await connectEsme(port);
    esmes.push(e);
    expect(elapsed(t0)).toBeGreaterThanOrEqual(140);
    expect(e.bound).toBe(true);
  });
});

describe('blackhole', () => {
  it('answers nothing while the TCP connection stays open; cleared, everything answers again', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    const id = s.setFault({ kind: 'blackhole' });
    await expect(submit(e, '447700900123', 100)).rejects.toBeInstanceOf(SmppResponseTimeoutError);
    await expect(e.probe({ timeoutMs: 100 })).rejects.toBeInstanceOf(SmppResponseTimeoutError);
    expect(e.closed).toBe(false);
    expect(s.sessions()).toHaveLength(1);
    s.clearFault(id);
    await expectWorks(e);
    await expect(e.probe()).resolves.toMatchObject({ ok: true });
  });

  it('a bind gets no answer: the ESME closes with bind_timeout', async () => {
    const { sim: s, port } = await sim();
    s.setFault({ kind: 'blackhole' });
    const e = await openEsme(port, { bindTimeoutMs: 150 });
    esmes.push(e);
    await expect(e.bind('bind_transceiver', { system_id: 'esme', password: 'x' })).rejects.toBeInstanceOf(
      SmppResponseTimeoutError,
    );
    expect(await closeReason(e)).toBe('bind_timeout');
  });

  it('swallows the ESME enquire_link, so its keepalive declares the link dead', async () => {
    const { sim: s } = await sim();
    const e = await esme({ enquireLinkIntervalMs: 40, enquireLinkTimeoutMs: 40, maxMissedProbes: 2 });
    s.setFault({ kind: 'blackhole' });
    expect(await closeReason(e)).toBe('keepalive_timeout');
  });

  it('with a destination scope swallows only submits to that destination', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    s.setFault({ kind: 'blackhole' }, { destination: '+447700900999' });
    await expect(submit(e, '447700900999', 100)).rejects.toBeInstanceOf(SmppResponseTimeoutError);
    await expectWorks(e);
    await expect(e.probe()).resolves.toMatchObject({ ok: true });
  });
});

describe('enquire_link_only', () => {
  it('answers probes but nothing else', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    const id = s.setFault({ kind: 'enquire_link_only' });
    await expect(e.probe()).resolves.toMatchObject({ ok: true, commandStatus: 0 });
    await expect(submit(e, '447700900123', 100)).rejects.toBeInstanceOf(SmppResponseTimeoutError);
    s.clearFault(id);
    await expectWorks(e);
  });
});

describe('drop', () => {
  it('fin at runtime closes matching bound sessions at once: the ESME sees EOF (peer_closed)', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    s.setFault({ kind: 'drop', mode: 'fin' });
    expect(await closeReason(e)).toBe('peer_closed');
    await waitFor(() => s.sessions().length === 0, 2_000, 'the simulator to forget the session');
  });

  it('rst at runtime resets the connection: the ESME sees ECONNRESET (socket_error)', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    const closed = new Promise<Error | undefined>((resolve) => e.once('close', (c) => resolve(c.error)));
    s.setFault({ kind: 'drop', mode: 'rst' });
    const error = await closed;
    expect(e.closeReason).toBe('socket_error');
    expect((error as NodeJS.ErrnoException | undefined)?.code).toBe('ECONNRESET');
  });

  it.each([
    ['fin', 'peer_closed'],
    ['rst', 'socket_error'],
  ] as const)('%s: a new bind succeeds and the connection closes right after (%s)', async (mode, reason) => {
    const { sim: s, port } = await sim();
    const id = s.setFault({ kind: 'drop', mode });
    const e = await openEsme(port);
    esmes.push(e);
    const resp = await e.bind('bind_transceiver', { system_id: 'esme', password: 'x' });
    expect(resp.command_status).toBe(0);
    expect(await closeReason(e)).toBe(reason);
    s.clearFault(id);
    const again = await esme();
    await expectWorks(again);
  });

  it('scoped to one system_id leaves other accounts bound', async () => {
    const { sim: s } = await sim();
    const a = await esme({ systemId: 'alpha' });
    const b = await esme({ systemId: 'beta' });
    s.setFault({ kind: 'drop', mode: 'fin' }, { systemId: 'alpha' });
    expect(await closeReason(a)).toBe('peer_closed');
    await expectWorks(b);
    expect(b.closed).toBe(false);
  });

  it('with a destination scope closes the connection on a submit to it, unanswered', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    s.setFault({ kind: 'drop', mode: 'fin' }, { destination: '447700900999' });
    await expectWorks(e);
    const lost = submit(e, '447700900999');
    await expect(lost).rejects.toBeInstanceOf(SmppConnectionClosedError);
    expect(e.closeReason).toBe('peer_closed');
  });
});

describe('refuse_bind', () => {
  it('refuses binds with the status; the connection stays open and binds once cleared', async () => {
    const { sim: s, port } = await sim();
    const id = s.setFault({ kind: 'refuse_bind', status: CommandStatus.ESME_RBINDFAIL });
    const e = await openEsme(port);
    esmes.push(e);
    const refused = await e
      .bind('bind_transceiver', { system_id: 'esme', password: 'x' })
      .catch((err) => err);
    expect(refused).toBeInstanceOf(SmppBindError);
    expect((refused as SmppBindError).commandStatus).toBe(CommandStatus.ESME_RBINDFAIL);
    expect(e.state).toBe('open');
    s.clearFault(id);
    await e.bind('bind_transceiver', { system_id: 'esme', password: 'x' });
    await expectWorks(e);
  });

  it('takes a status name where data is given (HTTP, YAML)', async () => {
    const { sim: s, port } = await sim();
    s.setFault({ kind: 'refuse_bind', status: 'ESME_RINVPASWD' as unknown as number });
    expect(s.faults()[0]?.fault).toEqual({ kind: 'refuse_bind', status: CommandStatus.ESME_RINVPASWD });
    await expect(connectEsme(port)).rejects.toMatchObject({ commandStatus: CommandStatus.ESME_RINVPASWD });
  });
});

// throttle: test/simulator/clock.test.ts, on a fake clock (its windows are whole seconds).

describe('error_status', () => {
  it('answers submits with the status by default, leaves enquire_link alone', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    const id = s.setFault({ kind: 'error_status', status: CommandStatus.ESME_RSUBMITFAIL });
    const resp = await submit(e);
    expect(resp).toMatchObject({ command: 'submit_sm_resp', command_status: CommandStatus.ESME_RSUBMITFAIL });
    await expect(e.probe()).resolves.toMatchObject({ commandStatus: 0 });
    expect(s.counters().submits).toBe(0);
    s.clearFault(id);
    await expectWorks(e);
  });

  it('answers the commands listed, enquire_link included', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    s.setFault({ kind: 'error_status', status: CommandStatus.ESME_RSYSERR, commands: ['enquire_link'] });
    // A refused probe rejects with its status (SMPP_ERR_PROBE_REJECTED): the link is alive.
    await expect(e.probe()).rejects.toMatchObject({ commandStatus: CommandStatus.ESME_RSYSERR });
    await expectWorks(e);
  });

  it('scoped to a destination: only submits to it fail, and in submit_multi only that destination', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    s.setFault(
      { kind: 'error_status', status: CommandStatus.ESME_RINVDSTADR },
      { destination: '447700900999' },
    );
    expect((await submit(e, '447700900999')).command_status).toBe(CommandStatus.ESME_RINVDSTADR);
    await expectWorks(e);
    const multi = await e.request('submit_multi', {
      source_addr: 'Brand',
      dest_address: [
        { dest_flag: 1, dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '447700900123' },
        { dest_flag: 1, dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '447700900999' },
      ],
      short_message: Buffer.from('hi'),
    });
    expect(multi).toMatchObject({
      command: 'submit_multi_resp',
      command_status: 0,
      unsuccess_sme: [
        {
          dest_addr_ton: 1,
          dest_addr_npi: 1,
          destination_addr: '447700900999',
          error_status_code: CommandStatus.ESME_RINVDSTADR,
        },
      ],
    });
  });
});

describe('wrong_sequence', () => {
  it('answers with another sequence_number: dropped as unexpected, the request times out', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    const id = s.setFault({ kind: 'wrong_sequence' });
    const stray = new Promise<{ pdu: Pdu; reason: string }>((resolve) => e.once('unexpected', resolve));
    const pending = submit(e, '447700900123', 150);
    await expect(pending).rejects.toBeInstanceOf(SmppResponseTimeoutError);
    const { pdu, reason } = await stray;
    expect(pdu.command).toBe('submit_sm_resp');
    expect(reason).toMatch(/no request/);
    s.clearFault(id);
    await expectWorks(e);
  });
});

describe('generic_nack', () => {
  it('answers requests with generic_nack (ESME_RSYSERR unless given)', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    const id = s.setFault({ kind: 'generic_nack' });
    expect(await submit(e)).toMatchObject({
      command: 'generic_nack',
      command_status: CommandStatus.ESME_RSYSERR,
    });
    expect(await e.probe().catch((error: unknown) => error)).toMatchObject({
      code: 'SMPP_ERR_PROBE_REJECTED',
      commandStatus: CommandStatus.ESME_RSYSERR,
    });
    s.clearFault(id);
    s.setFault({ kind: 'generic_nack', status: CommandStatus.ESME_RINVCMDID });
    expect(await submit(e)).toMatchObject({
      command: 'generic_nack',
      command_status: CommandStatus.ESME_RINVCMDID,
    });
    s.clearFault();
    await expectWorks(e);
  });

  it('a bind answered with generic_nack fails with its status', async () => {
    const { sim: s, port } = await sim();
    s.setFault({ kind: 'generic_nack', status: CommandStatus.ESME_RINVCMDLEN });
    await expect(connectEsme(port)).rejects.toMatchObject({
      name: 'SmppBindError',
      commandStatus: CommandStatus.ESME_RINVCMDLEN,
    });
  });
});

describe('malformed', () => {
  it('breaks the TLV area of answers with a body: the request fails with a decode error', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    const id = s.setFault({ kind: 'malformed' });
    const error = await submit(e).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(SmppDecodeError);
    expect((error as SmppDecodeError).recoverable).toBe(true);
    expect((error as SmppDecodeError).message).toMatch(/TLV 0x0427/);
    expect(e.bound).toBe(true);
    // Header-only answers get a stray octet, which a tolerant decoder accepts (reference §11.4).
    await expect(e.probe()).resolves.toMatchObject({ ok: true });
    s.clearFault(id);
    await expectWorks(e);
  });

  it('a malformed bind_resp fails the bind with a decode error', async () => {
    const { sim: s, port } = await sim();
    s.setFault({ kind: 'malformed' });
    const e = await openEsme(port);
    esmes.push(e);
    await expect(e.bind('bind_transceiver', { system_id: 'esme', password: 'x' })).rejects.toBeInstanceOf(
      SmppDecodeError,
    );
    expect(e.bound).toBe(false);
  });
});

describe('bad_length', () => {
  it.each(['short', 'long'] as const)(
    '%s: the ESME loses framing, nacks and closes (framing_lost)',
    async (mode) => {
      const { sim: s } = await sim();
      const e = await esme();
      s.setFault({ kind: 'bad_length', mode });
      const lost = await submit(e).catch((err: unknown) => err);
      expect(lost).toBeInstanceOf(SmppConnectionClosedError);
      expect(e.closeReason).toBe('framing_lost');
      // The ESME said why before closing: generic_nack ESME_RINVCMDLEN.
      expect(e.pdusOut.generic_nack).toBe(1);
      s.clearFault();
      await expectWorks(await esme());
    },
  );
});

describe('deliver_before_bind_resp', () => {
  it('sends a deliver_sm before bind_resp; an ESME still binding refuses it with ESME_RINVBNDSTS', async () => {
    const { sim: s, port } = await sim();
    s.setFault({ kind: 'deliver_before_bind_resp' });
    const e = await openEsme(port);
    esmes.push(e);
    await e.bind('bind_transceiver', { system_id: 'esme', password: 'x' });
    expect(e.pdusIn.deliver_sm).toBe(1);
    expect(e.pdusOut.deliver_sm_resp).toBe(1);
    await waitFor(() => s.counters().in.deliver_sm_resp === 1, 2_000, 'the early deliver_sm_resp');
    await expectWorks(e);
  });
});

describe('slow_loris', () => {
  it('writes answers a few octets at a time: slow but whole', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    const id = s.setFault({ kind: 'slow_loris', chunkBytes: 4, intervalMs: 40 });
    const t0 = performance.now();
    await expectWorks(e); // 33 octets: 9 writes, 8 waits of 40 ms
    expect(elapsed(t0)).toBeGreaterThanOrEqual(300);
    s.clearFault(id);
    await expectWorks(e);
  });

  it('keeps the order of answers queued behind a slow one', async () => {
    const { sim: s } = await sim();
    const e = await esme({ windowSize: 5 });
    s.setFault({ kind: 'slow_loris', chunkBytes: 8, intervalMs: 10 });
    const resps = await Promise.all([submit(e), submit(e), submit(e)]);
    const ids = resps.map((r) => (r as { message_id: string }).message_id);
    expect(new Set(ids).size).toBe(3);
    expect(resps.every((r) => r.command_status === 0)).toBe(true);
  });
});

describe('scopes and the fault table', () => {
  it('a fault scoped to a session leaves other sessions of the same account alone', async () => {
    const { sim: s } = await sim();
    const a = await esme();
    const b = await esme();
    s.setFault(
      { kind: 'error_status', status: CommandStatus.ESME_RSYSERR },
      { sessionId: s.sessions()[0]!.id },
    );
    expect((await submit(a)).command_status).toBe(CommandStatus.ESME_RSYSERR);
    await expectWorks(b);
  });

  it('a fault scoped to a system_id applies to every session of that account only', async () => {
    const { sim: s } = await sim();
    const a1 = await esme({ systemId: 'alpha' });
    const a2 = await esme({ systemId: 'alpha' });
    const b = await esme({ systemId: 'beta' });
    s.setFault({ kind: 'generic_nack' }, { systemId: 'alpha' });
    expect((await submit(a1)).command).toBe('generic_nack');
    expect((await submit(a2)).command).toBe('generic_nack');
    await expectWorks(b);
  });

  it('of two faults of one kind the newest wins; clearing it uncovers the older one', async () => {
    const { sim: s } = await sim();
    const e = await esme();
    s.setFault({ kind: 'generic_nack', status: 0x08 });
    const newer = s.setFault({ kind: 'generic_nack', status: 0x14 });
    expect((await submit(e)).command_status).toBe(0x14);
    s.clearFault(newer);
    expect((await submit(e)).command_status).toBe(0x08);
  });

  it('lists faults with ids and scopes, clears one or all', async () => {
    const { sim: s } = await sim();
    const a = s.setFault({ kind: 'delay', ms: 10 }, { systemId: 'x' });
    const b = s.setFault({ kind: 'blackhole' });
    expect(s.faults()).toEqual([
      { id: a, fault: { kind: 'delay', ms: 10 }, scope: { systemId: 'x' } },
      { id: b, fault: { kind: 'blackhole' }, scope: {} },
    ]);
    s.clearFault(a);
    expect(s.faults().map((f) => f.id)).toEqual([b]);
    s.clearFault();
    expect(s.faults()).toEqual([]);
    expect(() => s.clearFault(a)).toThrow(SimulatorError);
  });

  it('rejects an invalid fault or scope with every problem and its key path', async () => {
    const { sim: s } = await sim();
    const bad = (fault: unknown, scope?: unknown): SimulatorError => {
      try {
        s.setFault(fault as Fault, scope as never);
      } catch (error) {
        return error as SimulatorError;
      }
      throw new Error('accepted');
    };
    expect(bad({ kind: 'delay', ms: -5 }).issues).toEqual([
      { path: 'fault.ms', message: 'expected an integer from 0 to 2147483647, got -5' },
    ]);
    expect(bad({ kind: 'nope' }).issues[0]?.message).toMatch(
      /unknown fault kind "nope"; expected one of delay/,
    );
    expect(bad({ kind: 'drop', mode: 'fin', extra: 1 }).issues[0]).toMatchObject({ path: 'fault.extra' });
    expect(bad({ kind: 'refuse_bind', status: 'ESME_NOPE' }).issues[0]).toMatchObject({
      path: 'fault.status',
      message: 'unknown command_status name "ESME_NOPE"',
    });
    expect(
      bad({ kind: 'blackhole' }, { sessionId: 0, colour: 'red' })
        .issues.map((i) => i.path)
        .sort(),
    ).toEqual(['scope.colour', 'scope.sessionId']);
    expect(bad(null).code).toBe('SMPP_ERR_SIM_INVALID_INPUT');
    expect(s.faults()).toEqual([]);
  });
});
