/**
 * The outbound engine against the real simulator over loopback and a SqliteStore in a temp dir:
 * a bind (transceiver) whose receipts are handed to the engine's ReceiptSink, as the inbound
 * handler does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { InboundHandler } from '../../../src/binds/bind.js';
import { type BindOptions, withBindDefaults } from '../../../src/binds/bind-options.js';
import { BindRegistry } from '../../../src/binds/registry.js';
import { OutboundEngine } from '../../../src/bridge/outbound/engine.js';
import { StoreLeases } from '../../../src/bridge/outbound/leases.js';
import { type OutboundOptions, outboundOptions } from '../../../src/bridge/outbound/options.js';
import type { StatusEventSink } from '../../../src/bridge/ports.js';
import { buildRouteTable, type RouteConfig } from '../../../src/bridge/routing.js';
import { acceptMessages } from '../../../src/http/message-dispatch.js';
import type { Intake } from '../../../src/http/message-intake.js';
import { parseReceipt } from '../../../src/protocol/receipt.js';
import type { Clock } from '../../../src/session/clock.js';
import type { SimulatorOptions } from '../../../src/simulator/simulator.js';
import { openSqliteStore, type SqliteStore } from '../../../src/store/sqlite-store.js';
import type { MessageRecord, MessageStatus, NewMessage, PartRecord } from '../../../src/store/store.js';
import { type StartedSimulator, startSimulator } from '../../helpers/simulator.js';

export interface HarnessOptions {
  sim?: SimulatorOptions;
  /** Several binds: ids b1, b2… (default one, `b1`). */
  binds?: number;
  bind?: Partial<BindOptions>;
  routes?: RouteConfig[];
  options?: Partial<Omit<OutboundOptions, 'retry'>> & { retry?: Partial<OutboundOptions['retry']> };
  owner?: string;
  clock?: Clock;
  now?: () => number;
  sink?: StatusEventSink;
  /** Reuse this directory's store (crash recovery). */
  dir?: string;
  /** Do not start the binds. */
  unbound?: boolean;
  /** An existing simulator. */
  simulator?: StartedSimulator;
}

export interface Harness {
  sim: StartedSimulator;
  store: SqliteStore;
  registry: BindRegistry;
  engine: OutboundEngine;
  dir: string;
  /** Queues a message of `parts` parts (payloads `${id}.${i}`) and notifies the engine. */
  send(id: string, parts?: number, over?: Partial<NewMessage>): Promise<MessageRecord>;
  /**
   * Accepts it as POST /messages does (message-dispatch.ts): written at once on a bind with room,
   * else queued.
   */
  post(id: string, parts?: number, over?: Partial<NewMessage>): Promise<MessageRecord>;
  message(id: string): Promise<MessageRecord>;
  /** Resolves once every bind is bound. */
  bound(): Promise<void>;
  parts(id: string): Promise<PartRecord[]>;
  /** Resolves once the message has one of `statuses` (real time, generous bound). */
  until(id: string, ...statuses: MessageStatus[]): Promise<MessageRecord>;
  /** Stops the engine, the binds, the store (and the simulator unless it was given). */
  close(options?: { keepDir?: boolean }): Promise<void>;
}

export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * A starter for one test file: every harness it starts is closed after its test (newest first).
 * Call at the top level of the file.
 */
export function harnessPerTest(): (options?: HarnessOptions) => Promise<Harness> {
  const open: Harness[] = [];
  afterEach(async () => {
    for (const h of open.splice(0).reverse()) await h.close();
  });
  return async (options = {}) => {
    const h = await startHarness(options);
    open.push(h);
    return h;
  };
}

export async function startHarness(o: HarnessOptions = {}): Promise<Harness> {
  const sim = o.simulator ?? (await startSimulator({ receipts: { delayMs: 20 }, ...o.sim }));
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'smpp-bridge-outbound-'));
  const store = openSqliteStore({ path: join(dir, 'store.db'), ...(o.now ? { now: o.now } : {}) });
  let engine: OutboundEngine | undefined;
  const inbound: InboundHandler = async (pdu, bind) => {
    const receipt = parseReceipt(pdu as Parameters<typeof parseReceipt>[0]);
    if (receipt === null || engine === undefined) return { commandStatus: 0 };
    await engine.receipts.onReceipt({ bindId: bind.id, receipt, receivedAt: Date.now() });
    return { commandStatus: 0 };
  };
  const registry = new BindRegistry({ inbound, keepaliveRandom: () => 1 });
  const count = o.binds ?? 1;
  const binds = Array.from({ length: count }, (_, i) =>
    withBindDefaults({
      id: `b${i + 1}`,
      host: sim.host,
      port: sim.port,
      systemId: `sys${i + 1}`,
      password: 'secret',
      enquireLinkIntervalMs: 60_000,
      responseTimeoutMs: 2_000,
      reconnect: { initialDelayMs: 20, maxDelayMs: 200, stableAfterMs: 60_000 },
      ...o.bind,
    }),
  );
  await registry.reconcile(binds);
  const routes = buildRouteTable(o.routes, binds);
  engine = new OutboundEngine({
    store,
    registry,
    routes,
    options: outboundOptions({ pollIntervalMs: 200, ...o.options }),
    leases: new StoreLeases(store, o.owner ?? 'test-owner', o.options?.leaseTtlMs ?? 30_000),
    ...(o.clock ? { clock: o.clock } : {}),
    ...(o.now ? { wallNow: o.now } : {}),
    ...(o.sink ? { sink: o.sink } : {}),
  });
  await engine.start();
  if (!o.unbound) registry.startAll();
  const e = engine;
  const h: Harness = {
    sim,
    store,
    registry,
    engine: e,
    dir,
    async send(id, parts = 1, over = {}) {
      const intake = testIntake(id, parts, over);
      const record = await store.createMessage(intake.message, intake.parts);
      e.notifyQueued(record.route, parts);
      return record;
    },
    post(id, parts = 1, over = {}) {
      const intake = testIntake(id, parts, over);
      return acceptMessages(
        e.messagePath(),
        (tx, dispatch) => dispatch.create(tx, intake),
        () => {},
      );
    },
    async message(id) {
      const m = await store.getMessage(id);
      if (!m) throw new Error(`no message ${id}`);
      return m;
    },
    parts: (id) => store.listParts(id),
    async bound() {
      await eventually(async () => registry.list().every((b) => b.isBound), 10_000, 'the binds to be bound');
    },
    until: (id, ...statuses) =>
      eventually(
        async () => {
          const m = await store.getMessage(id);
          return m && statuses.includes(m.status) ? m : undefined;
        },
        10_000,
        `message ${id} to be ${statuses.join(' or ')}`,
      ),
    async close(options = {}) {
      await e.stop(1_000);
      await registry.stopAll(1_000);
      await store.close().catch(() => {});
      if (!o.simulator) await sim.close();
      if (!options.keepDir && !o.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}

/** A message of `parts` parts (payloads `${id}.${i}`) on route `default`, as the intake plans one. */
function testIntake(id: string, parts: number, over: Partial<NewMessage>): Intake {
  const message: NewMessage = {
    id,
    route: 'default',
    from: 'ACME',
    to: '447700900123',
    encoding: 'gsm7',
    body: Buffer.from(`body ${id}`),
    ...over,
  };
  return {
    message,
    parts: Array.from({ length: parts }, (_, i) => ({ index: i, payload: Buffer.from(`${id}.${i}`) })),
    route: message.route,
    encoding: 'gsm7',
  };
}
