/**
 * A world for the inbound handler: a BindRegistry on a FakeClock over the in-memory network (the
 * SMSC side is a real SmppSession, so tests send hand-built deliver_sm/data_sm), a SqliteStore in a
 * temp dir on the same clock, and recording sinks that write inside the handler's transaction.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BindSupervisor } from '../../../src/binds/bind.js';
import { type BindOptions, withBindDefaults } from '../../../src/binds/bind-options.js';
import { BindRegistry } from '../../../src/binds/registry.js';
import { createInboundHandler, type InboundPath } from '../../../src/bridge/inbound/index.js';
import type {
  InboundEventSink,
  InboundReceipt,
  ReceiptSink,
  ReceivedMessage,
} from '../../../src/bridge/ports.js';
import type { Pdu, PduInit } from '../../../src/protocol/pdu.js';
import { FakeClock } from '../../../src/session/clock.js';
import type { SmppSession } from '../../../src/session/session.js';
import { SqliteStore, type SqliteStoreOptions } from '../../../src/store/sqlite-store.js';
import type { Store, StoreTx } from '../../../src/store/store.js';
import { MemoryNetwork } from '../../binds/helpers/memory-network.js';
import { settle } from '../../helpers/memory-duplex.js';

/** Wall-clock base of the fake clock (the store records wall-clock ms). */
export const T0 = Date.UTC(2026, 11, 7);

/** Tells of each MO, and enqueues a webhook row in the same transaction (as the fan-out does). */
export class RecordingEvents implements InboundEventSink {
  readonly received: ReceivedMessage[] = [];
  async onMessageReceived(tx: StoreTx, received: ReceivedMessage): Promise<void> {
    await tx.enqueueWebhook({
      messageId: received.message.id,
      endpoint: 'test',
      type: 'message.received',
      payload: { id: received.message.id, text: received.text },
    });
    this.received.push(received);
  }
}

/** Parks each receipt in the store (durable) before resolving; `fail` makes it reject. */
export class RecordingReceipts implements ReceiptSink {
  readonly receipts: InboundReceipt[] = [];
  fail = false;
  constructor(private readonly store: () => Store) {}
  async onReceipt(receipt: InboundReceipt): Promise<void> {
    if (this.fail) throw new Error('the receipt could not be stored');
    await this.store().parkReceipt({
      smscMessageId: receipt.receipt.id,
      bindId: receipt.bindId,
      stat: receipt.receipt.stat,
      err: receipt.receipt.err ?? null,
    });
    this.receipts.push(receipt);
  }
}

export interface WorldOptions {
  binds?: string[];
  /** The route of every bind (null: none). */
  route?: string | null;
  reassemblyTimeoutMs?: number;
  dedupWindowMs?: number;
  store?: Partial<SqliteStoreOptions>;
  bind?: Partial<BindOptions>;
}

export class InboundWorld {
  readonly clock = new FakeClock();
  readonly net = new MemoryNetwork(this.clock);
  readonly dir = mkdtempSync(join(tmpdir(), 'smpp-inbound-'));
  readonly events = new RecordingEvents();
  readonly receipts = new RecordingReceipts(() => this.store);
  readonly now = (): number => T0 + this.clock.now();
  store!: Store;
  path!: InboundPath;
  registry!: BindRegistry;
  binds: BindSupervisor[] = [];

  constructor(private readonly options: WorldOptions = {}) {}

  openStore(over: Partial<SqliteStoreOptions> = {}): Store {
    return new SqliteStore({
      path: join(this.dir, 'bridge.db'),
      now: this.now,
      ...this.options.store,
      ...over,
    });
  }

  /** Opens the store and the handler (again, after `restart`). */
  async start(): Promise<this> {
    this.store = this.openStore();
    this.path = createInboundHandler({
      store: this.store,
      receipts: this.receipts,
      events: this.events,
      routeOfBind: () => (this.options.route === undefined ? 'r1' : this.options.route),
      clock: this.clock,
      now: this.now,
      reassemblyTimeoutMs: this.options.reassemblyTimeoutMs ?? 60_000,
      dedupWindowMs: this.options.dedupWindowMs ?? 600_000,
      sweepIntervalMs: 1_000,
    });
    this.path.start();
    if (!this.registry) {
      this.registry = new BindRegistry({
        clock: this.clock,
        connect: this.net.connect,
        sweepIntervalMs: 1_000,
        inbound: (pdu, bind) => this.path.handle(pdu, bind),
      });
      for (const id of this.options.binds ?? ['b1']) {
        this.binds.push(
          this.registry.add(
            withBindDefaults({
              id,
              host: 'smsc.test',
              port: 2775,
              systemId: 'esme',
              password: 'secret',
              enquireLinkIntervalMs: 0,
              ...this.options.bind,
            }),
          ),
        );
      }
      this.registry.startAll();
      await settle(8);
    }
    return this;
  }

  /** The bridge process restarts: handler and store closed and opened again (binds stay up). */
  async restart(): Promise<void> {
    await this.path.close();
    await this.store.close();
    await this.start();
  }

  /** The SMSC session of bind `i`. */
  smsc(i = 0): SmppSession {
    const s = this.net.sessions[i];
    if (!s) throw new Error(`no SMSC session ${i}`);
    return s;
  }

  deliver(init: PduInit<'deliver_sm'>, i = 0): Promise<Pdu> {
    return this.smsc(i).request('deliver_sm', {
      source_addr: '4917000001',
      destination_addr: '12345',
      ...init,
    });
  }

  dataSm(init: PduInit<'data_sm'>, i = 0): Promise<Pdu> {
    return this.smsc(i).request('data_sm', { source_addr: '4917000001', destination_addr: '12345', ...init });
  }

  /** Moves the fake clock, letting the sweeper's store work (real I/O) finish. */
  async advance(ms: number): Promise<void> {
    await this.net.advance(ms, 500);
    await this.path.sweep();
  }

  async close(): Promise<void> {
    const stopping = this.registry?.stopAll(1_000);
    await this.net.advance(1_000, 50);
    await stopping;
    await this.path?.close();
    await this.store?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A UDH with the 8-bit (IEI 0) or 16-bit (IEI 8) concatenation element. */
export function udh(reference: number, total: number, seq: number, bits: 8 | 16 = 8): Buffer {
  return bits === 8
    ? Buffer.from([0x05, 0x00, 0x03, reference, total, seq])
    : Buffer.from([0x06, 0x08, 0x04, reference >> 8, reference & 0xff, total, seq]);
}

export function int(bytes: number, value: number): Buffer {
  const b = Buffer.alloc(bytes);
  b.writeUIntBE(value, 0, bytes);
  return b;
}
