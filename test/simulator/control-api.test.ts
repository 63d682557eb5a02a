/**
 * The simulator's HTTP control API: through fastify's inject for every route and error, and
 * once over a real loopback port, with faults switched on and off while our ESME watches.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandStatus } from '../../src/protocol/command-status.js';
import { TlvTag } from '../../src/protocol/constants.js';
import { findTlv } from '../../src/protocol/tlv.js';
import type { SmppSession } from '../../src/session/session.js';
import { buildControlApi, startControlApi } from '../../src/simulator/control-api.js';
import { FAULT_KINDS } from '../../src/simulator/faults.js';
import { connectEsme, inbox, type StartedSimulator, startSimulator, waitFor } from '../helpers/simulator.js';

let started: StartedSimulator | undefined;
let app: FastifyInstance | undefined;
const esmes: SmppSession[] = [];

afterEach(async () => {
  for (const e of esmes.splice(0)) e.destroy();
  await app?.close();
  app = undefined;
  await started?.close();
  started = undefined;
});

async function setup(): Promise<{ api: FastifyInstance; esme: SmppSession }> {
  started = await startSimulator({ receipts: { delayMs: 10 } });
  app = buildControlApi(started.sim);
  const esme = await connectEsme(started.port, { systemId: 'acme', responseTimeoutMs: 2_000 });
  esmes.push(esme);
  return { api: app, esme };
}

const submit = (e: SmppSession) =>
  e.request('submit_sm', { destination_addr: '447700900123', short_message: Buffer.from('hi') });

describe('control API', () => {
  it('reports health, sessions and counters', async () => {
    const { api } = await setup();
    expect((await api.inject({ url: '/health' })).json()).toEqual({
      status: 'ok',
      port: started!.port,
      sessions: 1,
    });
    const sessions = (await api.inject({ url: '/sessions' })).json();
    expect(sessions).toMatchObject([{ systemId: 'acme', bindType: 'transceiver', state: 'bound_trx' }]);
    const counters = (await api.inject({ url: '/counters' })).json();
    expect(counters).toMatchObject({ binds: 1, submits: 0, in: { bind_transceiver: 1 } });
  });

  it('switches a fault on with POST /faults and off with DELETE /faults/:id', async () => {
    const { api, esme } = await setup();
    const created = await api.inject({
      method: 'POST',
      url: '/faults',
      payload: { fault: { kind: 'error_status', status: 'ESME_RTHROTTLED' }, scope: { systemId: 'acme' } },
    });
    expect(created.statusCode).toBe(201);
    const { id } = created.json() as { id: number };
    expect((await api.inject({ url: '/faults' })).json()).toEqual([
      {
        id,
        fault: { kind: 'error_status', status: CommandStatus.ESME_RTHROTTLED },
        scope: { systemId: 'acme' },
      },
    ]);
    expect((await submit(esme)).command_status).toBe(CommandStatus.ESME_RTHROTTLED);
    const deleted = await api.inject({ method: 'DELETE', url: `/faults/${id}` });
    expect(deleted.statusCode).toBe(204);
    expect((await submit(esme)).command_status).toBe(0);
    const again = await api.inject({ method: 'DELETE', url: `/faults/${id}` });
    expect(again.statusCode).toBe(404);
    expect(again.json()).toEqual({ code: 'SMPP_ERR_SIM_NOT_FOUND', message: `no fault with id ${id}` });
  });

  it('DELETE /faults switches every fault off', async () => {
    const { api } = await setup();
    for (const fault of [{ kind: 'blackhole' }, { kind: 'delay', ms: 5 }]) {
      await api.inject({ method: 'POST', url: '/faults', payload: { fault } });
    }
    expect(started!.sim.faults()).toHaveLength(2);
    expect((await api.inject({ method: 'DELETE', url: '/faults' })).statusCode).toBe(204);
    expect(started!.sim.faults()).toEqual([]);
  });

  it('lists the catalogue', async () => {
    const { api } = await setup();
    const catalogue = (await api.inject({ url: '/faults/catalogue' })).json() as {
      kind: string;
      summary: string;
    }[];
    expect(catalogue.map((c) => c.kind)).toEqual(FAULT_KINDS);
    expect(catalogue.every((c) => c.summary.length > 0)).toBe(true);
  });

  it('answers bad input with 400 { code, message } naming the key', async () => {
    const { api } = await setup();
    const cases: [object | string | undefined, RegExp][] = [
      [{ fault: { kind: 'delay', ms: 'soon' } }, /fault\.ms: expected an integer/],
      [{ fault: { kind: 'teleport' } }, /fault\.kind: unknown fault kind "teleport"/],
      [{ fault: { kind: 'blackhole' }, scope: { sessionId: -1 } }, /scope\.sessionId/],
      [{ fault: { kind: 'blackhole' }, extra: true }, /extra: unknown key/],
      [{ scope: {} }, /fault: required key is missing/],
      ['{"fault": ', /JSON/],
      [undefined, /body/i],
    ];
    for (const [payload, message] of cases) {
      const res = await api.inject({
        method: 'POST',
        url: '/faults',
        headers: { 'content-type': 'application/json' },
        ...(payload === undefined
          ? {}
          : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
      });
      expect(res.statusCode).toBe(400);
      const body = res.json() as { code: string; message: string };
      expect(body.code).toBe('SMPP_ERR_SIM_INVALID_INPUT');
      expect(body.message).toMatch(message);
    }
    expect(started!.sim.faults()).toEqual([]);
    expect((await api.inject({ method: 'DELETE', url: '/faults/abc' })).statusCode).toBe(400);
    const unknown = await api.inject({ url: '/nope' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'SMPP_ERR_SIM_NOT_FOUND' });
  });

  it('injects an MO with POST /mo', async () => {
    const { api, esme } = await setup();
    const res = await api.inject({
      method: 'POST',
      url: '/mo',
      payload: {
        from: '447700900555',
        to: '12345',
        text: 'STOP',
        tlvs: [{ tag: TlvTag.user_message_reference, hex: '0007' }],
      },
    });
    expect(res.json()).toEqual({ id: expect.stringMatching(/^mo-\d+$/), parts: 1, sent: 1, delivered: 1 });
    const mo = inbox(esme)[0]!;
    expect(mo.short_message.toString()).toBe('STOP');
    expect(findTlv(mo.tlvs, TlvTag.user_message_reference)).toBe(7);
    const bad = await api.inject({
      method: 'POST',
      url: '/mo',
      payload: { from: '', to: '1', dataCoding: 300 },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/from: .*dataCoding: /);
  });

  it('shows a message it accepted with GET /messages/:id', async () => {
    const { api, esme } = await setup();
    const resp = (await submit(esme)) as { message_id: string };
    await waitFor(() => started!.sim.message(resp.message_id)?.stat, 2_000, 'the final state');
    const res = await api.inject({ url: `/messages/${resp.message_id}` });
    expect(res.json()).toMatchObject({
      id: resp.message_id,
      systemId: 'acme',
      destinations: ['447700900123'],
      state: 'DELIVRD',
      messageState: 2,
    });
    expect((await api.inject({ url: '/messages/unknown' })).statusCode).toBe(404);
  });

  it('serves over a real port', async () => {
    started = await startSimulator();
    const running = await startControlApi(started.sim, { port: 0 });
    app = running.app;
    expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${running.url}/health`);
    expect(await health.json()).toEqual({ status: 'ok', port: started.port, sessions: 0 });
    const created = await fetch(`${running.url}/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fault: { kind: 'refuse_bind', status: 13 } }),
    });
    expect(created.status).toBe(201);
    await expect(connectEsme(started.port)).rejects.toMatchObject({ commandStatus: 13 });
  });
});
