// GET /inbound and GET /inbound/:id end to end: the simulator sends MO as deliver_sm to a bind of a
// real BindRegistry whose inbound handler stores it in a SqliteStore; the routes page through what
// was stored (oldest first, cursor, filters), show one message decoded, and answer 503 without the
// message path.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInboundHandler, type InboundPath, routeOfBindIn } from '../../src/bridge/inbound/index.js';
import type { InboundEventSink, MessagePath } from '../../src/bridge/ports.js';
import { buildRouteTable } from '../../src/bridge/routing.js';
import type { App } from '../../src/http/app.js';
import { TlvTag } from '../../src/protocol/constants.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { bindOptions, type Harness, startHarness, waitBound } from './harness.js';

let h: Harness;
let app: App;
let store: Store;
let inbound: InboundPath;
let dir: string;

/** The webhook fan-out's place: nothing to enqueue here, the routes read the store. */
const events: InboundEventSink = { onMessageReceived: async () => {} };

interface View {
  id: string;
  route: string | null;
  bindId: string;
  from: string;
  to: string;
  text: string | null;
  binaryHex: string | null;
  encoding: string;
  dataCoding: number;
  parts: number;
  incomplete: boolean;
  missingParts: number[];
  receivedAt: string;
}
interface Page {
  messages: View[];
  nextCursor: string | null;
}

async function page(query = ''): Promise<Page> {
  const res = await app.inject({ url: `/inbound${query}` });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Page;
}

async function mo(
  from: string,
  text: string,
  extra: { dataCoding?: number; tlvs?: { tag: number; value: Buffer }[] } = {},
) {
  const { delivered } = await h.simulator.injectMo({ from, to: '12345', text, ...extra });
  expect(delivered).toBe(1);
}

beforeAll(async () => {
  h = await startHarness();
  dir = mkdtempSync(join(tmpdir(), 'smpp-inbound-http-'));
  store = new SqliteStore({ path: join(dir, 'bridge.db') });
  const binds = [bindOptions('main', h.port)];
  const routes = buildRouteTable([{ id: 'eu', binds: ['main'] }], binds);
  inbound = createInboundHandler({
    store,
    events,
    receipts: { onReceipt: async () => {} },
    routeOfBind: routeOfBindIn(() => routes),
  });
  inbound.start();
  h.registry.setInboundHandler(inbound.handle);
  for (const b of binds) h.registry.add(b).start();
  await waitBound(h.registry.get('main')!);
  const messagePath: MessagePath = {
    store,
    routes: () => routes,
    outbound: { notifyQueued: () => {}, queuedParts: () => 0 },
  };
  app = await h.app({ messagePath });
  await mo('4917000001', 'first');
  await mo('4917000002', 'Grüße aus Köln', { dataCoding: 3 });
  await mo('4917000001', 'Привет');
  await mo('4917000003', 'binary', { dataCoding: 4 });
}, 20_000);

afterAll(async () => {
  await h?.close();
  await inbound?.close();
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('GET /inbound', () => {
  it('lists what the SMSC delivered, oldest first, decoded by data_coding', async () => {
    const { messages } = await page();
    expect(messages.map((m) => [m.from, m.text, m.encoding, m.dataCoding])).toEqual([
      ['4917000001', 'first', 'gsm7', 0],
      ['4917000002', 'Grüße aus Köln', 'latin1', 3],
      ['4917000001', 'Привет', 'ucs2', 8],
      ['4917000003', null, 'binary', 4],
    ]);
    expect(messages[3]!.binaryHex).toBe(Buffer.from('binary', 'latin1').toString('hex'));
    expect(messages[0]).toMatchObject({
      route: 'eu',
      bindId: 'main',
      to: '12345',
      parts: 1,
      incomplete: false,
      missingParts: [],
    });
    expect(Date.parse(messages[0]!.receivedAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('pages with the cursor, and the last cursor later returns only what arrived since', async () => {
    const first = await page('?limit=3');
    expect(first.messages).toHaveLength(3);
    const rest = await page(`?limit=3&cursor=${first.nextCursor}`);
    expect(rest.messages.map((m) => m.from)).toEqual(['4917000003']);
    const caughtUp = await page(`?limit=3&cursor=${rest.nextCursor}`);
    expect(caughtUp).toEqual({ messages: [], nextCursor: rest.nextCursor });
    await mo('4917000004', 'later');
    const since = await page(`?limit=3&cursor=${rest.nextCursor}`);
    expect(since.messages.map((m) => m.text)).toEqual(['later']);
  });

  it('filters by sender, bind and time', async () => {
    expect((await page('?from=4917000001')).messages.map((m) => m.text)).toEqual(['first', 'Привет']);
    expect((await page('?bind=nope')).messages).toEqual([]);
    expect((await page('?bind=main')).messages.length).toBeGreaterThanOrEqual(4);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect(await page(`?since=${future}`)).toEqual({ messages: [], nextCursor: null });
  });

  it('refuses a cursor it did not give and a since that is no date, naming the parameter', async () => {
    for (const [query, field] of [
      ['?cursor=bm90LWEtY3Vyc29y', 'querystring/cursor'],
      ['?since=yesterday', 'querystring/since'],
    ] as const) {
      const res = await app.inject({ url: `/inbound${query}` });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', details: { errors: [{ field }] } });
    }
  });
});

describe('GET /inbound/:id', () => {
  it('shows one message as the listing does, and 404 INBOUND_NOT_FOUND for an unknown id', async () => {
    const [listed] = (await page('?from=4917000002')).messages;
    const res = await app.inject({ url: `/inbound/${listed!.id}` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(listed);
    const missing = await app.inject({ url: '/inbound/nope' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'INBOUND_NOT_FOUND' });
  });

  it('shows a long MO joined from its SAR parts', async () => {
    const sar = (seq: number) => [
      { tag: TlvTag.sar_msg_ref_num, value: Buffer.from([0x01, 0x2c]) },
      { tag: TlvTag.sar_total_segments, value: Buffer.from([2]) },
      { tag: TlvTag.sar_segment_seqnum, value: Buffer.from([seq]) },
    ];
    await mo('4917000005', 'world', { tlvs: sar(2) });
    await mo('4917000005', 'hello ', { tlvs: sar(1) });
    const [joined] = (await page('?from=4917000005')).messages;
    expect(joined).toMatchObject({ text: 'hello world', parts: 2, incomplete: false });
  });
});

describe('without the message path', () => {
  it('answers 503 MESSAGES_UNAVAILABLE', async () => {
    const bare = await h.app();
    for (const url of ['/inbound', '/inbound/x']) {
      const res = await bare.inject({ url });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ code: 'MESSAGES_UNAVAILABLE' });
    }
  });
});
