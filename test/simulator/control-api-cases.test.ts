/**
 * The control API's message-path routes (through fastify's inject): cases on and off, MO in
 * parts and in bursts, the list of accepted messages and the record of deliver_sm sent, with
 * their errors as `{ code, message }`.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandStatus } from '../../src/protocol/command-status.js';
import type { SmppSession } from '../../src/session/session.js';
import { CASE_KINDS } from '../../src/simulator/cases.js';
import { buildControlApi } from '../../src/simulator/control-api.js';
import { fakeClockSimulator } from '../helpers/fake-clock-simulator.js';
import { inbox, waitFor } from '../helpers/simulator.js';

let app: FastifyInstance | undefined;
const h = fakeClockSimulator({
  sim: { receipts: { delayMs: 10 } },
  esme: { systemId: 'acme', responseTimeoutMs: 5_000 },
});

afterEach(async () => {
  await app?.close();
  app = undefined;
  await h.close();
});

async function setup(): Promise<{ api: FastifyInstance; esme: SmppSession }> {
  const started = await h.sim();
  app = buildControlApi(started.sim);
  return { api: app, esme: await h.esme() };
}

const submit = (e: SmppSession, destination = '447700900123') =>
  e.request('submit_sm', {
    source_addr: '447700900999',
    destination_addr: destination,
    registered_delivery: 1,
    short_message: Buffer.from('hi'),
  });

describe('control API: cases', () => {
  it('switches a case on with POST /cases, lists it, and off with DELETE /cases/:id', async () => {
    const { api, esme } = await setup();
    const created = await api.inject({
      method: 'POST',
      url: '/cases',
      payload: {
        case: { kind: 'throttle', tps: 1, status: 'ESME_RMSGQFUL' },
        scope: { systemId: 'acme', destinationPrefix: '+44' },
      },
    });
    expect(created.statusCode).toBe(201);
    const { id } = created.json() as { id: number };
    expect((await api.inject({ url: '/cases' })).json()).toEqual([
      {
        id,
        case: { kind: 'throttle', tps: 1, status: CommandStatus.ESME_RMSGQFUL },
        scope: { systemId: 'acme', destinationPrefix: '+44' },
      },
    ]);
    expect((await submit(esme)).command_status).toBe(0);
    expect((await submit(esme)).command_status).toBe(CommandStatus.ESME_RMSGQFUL);
    expect((await api.inject({ method: 'DELETE', url: `/cases/${id}` })).statusCode).toBe(204);
    expect((await submit(esme)).command_status).toBe(0);
    const again = await api.inject({ method: 'DELETE', url: `/cases/${id}` });
    expect(again.statusCode).toBe(404);
    expect(again.json()).toMatchObject({ code: 'SMPP_ERR_SIM_NOT_FOUND' });
    expect((await api.inject({ method: 'DELETE', url: '/cases' })).statusCode).toBe(204);
  });

  it('lists the catalogue and refuses a bad case with every issue and its path', async () => {
    const { api } = await setup();
    const catalogue = (await api.inject({ url: '/cases/catalogue' })).json() as { kind: string }[];
    expect(catalogue.map((c) => c.kind)).toEqual(CASE_KINDS);
    const bad = await api.inject({
      method: 'POST',
      url: '/cases',
      payload: { case: { kind: 'receipts', stats: [] }, scope: { destinationPrefix: '44 77' } },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'SMPP_ERR_SIM_INVALID_INPUT' });
    expect(bad.json().message).toMatch(/case\.stats: .*scope\.destinationPrefix: /);
    const unknown = await api.inject({ method: 'POST', url: '/cases', payload: { case: { kind: 'nope' } } });
    expect(unknown.json().message).toMatch(/unknown case kind "nope"/);
  });
});

describe('control API: MO', () => {
  it('sends an MO in parts with some dropped, and shows each deliver_sm in GET /deliveries', async () => {
    const { api, esme } = await setup();
    const res = await api.inject({
      method: 'POST',
      url: '/mo',
      payload: {
        from: '447700900555',
        to: '12345',
        text: 'y'.repeat(400),
        split: { method: 'udh16', reference: 513 },
        dropParts: [1],
      },
    });
    expect(res.json()).toMatchObject({ parts: 3, sent: 2, delivered: 1 });
    expect(inbox(esme)).toHaveLength(2);
    const { id } = res.json() as { id: string };
    const records = (await api.inject({ url: `/deliveries?kind=mo&moId=${id}` })).json();
    expect(records).toMatchObject([
      { kind: 'mo', moId: id, part: 2, parts: 3, outcome: 'ok', status: 'ESME_ROK', from: '447700900555' },
      { kind: 'mo', moId: id, part: 3, parts: 3, outcome: 'ok' },
    ]);
    const bad = await api.inject({ url: '/deliveries?outcome=maybe&limit=0' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/outcome: .*limit: /);
  });

  it('starts, shows and stops a burst', async () => {
    const { api, esme } = await setup();
    const created = await api.inject({
      method: 'POST',
      url: '/mo/bursts',
      payload: { from: '1', to: '2', text: 'n={n}', count: 50, ratePerSecond: 5 },
    });
    expect(created.statusCode).toBe(201);
    const { id } = created.json() as { id: number };
    await waitFor(() => inbox(esme).length === 1, 3_000, 'the first MO');
    expect((await api.inject({ url: `/mo/bursts/${id}` })).json()).toMatchObject({
      id,
      started: 1,
      state: 'running',
    });
    expect((await api.inject({ method: 'DELETE', url: `/mo/bursts/${id}` })).statusCode).toBe(204);
    expect((await api.inject({ url: '/mo/bursts' })).json()).toMatchObject([{ id, state: 'stopped' }]);
    expect((await api.inject({ url: '/mo/bursts/77' })).statusCode).toBe(404);
    const tooMany = await api.inject({
      method: 'POST',
      url: '/mo/bursts',
      payload: { from: '1', to: '2', count: 2_000_000, ratePerSecond: 0 },
    });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().message).toMatch(/count: .*ratePerSecond: /);
  });
});

describe('control API: messages', () => {
  it('lists the accepted messages with ids, addresses, text and whether they were answered, paged by seq', async () => {
    const { api, esme } = await setup();
    const ids: string[] = [];
    for (const d of ['447700900001', '447700900002', '33600000003']) {
      ids.push(((await submit(esme, d)) as { message_id: string }).message_id);
    }
    const all = (await api.inject({ url: '/messages' })).json() as { seq: number; id: string }[];
    expect(all).toMatchObject([
      {
        seq: 1,
        id: ids[0],
        source: '447700900999',
        destinations: ['447700900001'],
        text: 'hi',
        responded: true,
        part: null,
      },
      { seq: 2, id: ids[1], destinations: ['447700900002'] },
      { seq: 3, id: ids[2], destinations: ['33600000003'] },
    ]);
    expect((await api.inject({ url: '/messages?after=1&limit=1' })).json()).toMatchObject([{ seq: 2 }]);
    expect((await api.inject({ url: '/messages?destination=%2B33600000003' })).json()).toMatchObject([
      { seq: 3 },
    ]);
    expect((await api.inject({ url: '/messages?systemId=other' })).json()).toEqual([]);
    expect((await api.inject({ url: '/messages?after=x' })).statusCode).toBe(400);
  });
});
