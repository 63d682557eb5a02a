/**
 * The one inbound handler of the binds registry: answers each deliver_sm and data_sm only after what
 * it carries is durably stored.
 *
 *   receipt   → ReceiptSink.onReceipt (the outbound correlation); ESME_ROK once it resolved
 *   MO        → stored (single, part of a set, or a redelivery recognised) → ESME_ROK
 *   failure   → the handler throws: the bind answers its inboundErrorStatus (ESME_RSYSERR by default),
 *               a temporary error, and the SMSC redelivers
 *   malformed → a UDH that cannot be read is answered ESME_RX_P_APPN (permanent: redelivering the same
 *               octets cannot help), with a warning
 *
 * MO sets that never complete are delivered incomplete by the ReassemblySweeper this owns: call
 * `start()` once the store is open and `close()` before closing it.
 */
import { Counter, Histogram, type Metric } from 'prom-client';
import type { BindSupervisor, InboundHandler, InboundResult } from '../../binds/bind.js';
import { ErrorCode } from '../../errors.js';
import { type Logger, silentLogger } from '../../logger.js';
import { CommandStatus } from '../../protocol/command-status.js';
import type { Pdu } from '../../protocol/pdu.js';
import { type Clock, realClock } from '../../session/clock.js';
import type { Store } from '../../store/store.js';
import { createTimeOrderedIdGenerator } from '../../store/time-ordered-id.js';
import {
  DEFAULT_DEDUP_WINDOW_MS,
  DEFAULT_REASSEMBLY_TIMEOUT_MS,
  type MoPdu,
  moFingerprint,
  readMoPart,
} from '../mo-reassembly.js';
import type { InboundEventSink, ReceiptSink } from '../ports.js';
import { classifyInbound, type InboundKind } from './classify.js';
import { DEFAULT_MAX_MO_BATCH, MoBatcher } from './mo-batch.js';
import { ReassemblySweeper } from './reassembly-sweeper.js';
import type { MoOutcome } from './store-mo.js';

export interface InboundHandlerDeps {
  store: Store;
  receipts: ReceiptSink;
  events: InboundEventSink;
  /** The route a bind is in (config `routes`), null when none: MO sets are keyed by it. */
  routeOfBind: (bindId: string) => string | null;
  /** Timers (the sweeper). default realClock. */
  clock?: Clock;
  /** Wall-clock ms, the same base as the store's. default Date.now. */
  now?: () => number;
  /** mo.reassemblyTimeoutMs: a set still missing parts this long after its first is delivered incomplete. */
  reassemblyTimeoutMs?: number;
  /** mo.dedupWindowMs: a deliver_sm seen again within this window is a redelivery, delivered once. */
  dedupWindowMs?: number;
  /** How often the sweeper looks for timed-out sets. default reassemblyTimeoutMs / 10, 1 s to 30 s. */
  sweepIntervalMs?: number;
  /** GSM 7-bit user data arrives bit-packed (default false: one septet per octet). */
  gsm7Packed?: boolean;
  /** Most MO stored in one unit of work (those of one event-loop turn share it; mo-batch.ts). */
  maxMoBatch?: number;
  /** Ids of stored messages; default time-ordered UUIDv7 (src/store/time-ordered-id.ts). */
  newId?: () => string;
  logger?: Logger;
}

/** How an MO deliver_sm/data_sm ended, as counted in smpp_inbound_mo_total{outcome}. */
export type MoOutcomeLabel = MoOutcome | 'failed' | 'malformed';

/** Answer latency buckets (s): a commit is ~1–10 ms on a local disk, a loaded one or PostgreSQL more. */
export const INBOUND_ANSWER_BUCKETS_SECONDS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

export interface InboundPath {
  /** Give this to the registry (`registry.setInboundHandler(inbound.handle)`). */
  readonly handle: InboundHandler;
  /**
   * prom-client metrics to register on the app's registry: smpp_inbound_mo_total{outcome} (MO
   * received, by how they ended) and smpp_inbound_answer_duration_seconds{kind} (from the
   * deliver_sm/data_sm reaching the handler to its answer: for MO and receipts, the durable store).
   */
  readonly metrics: readonly Metric[];
  /** Starts the reassembly sweeper. */
  start(): void;
  /** Delivers the sets that timed out now (the sweeper's work, on demand). */
  sweep(): Promise<number>;
  /** Stores the MO pending, stops the sweeper and waits for a sweep in flight. Does not close the store. */
  close(): Promise<void>;
}

export function createInboundHandler(deps: InboundHandlerDeps): InboundPath {
  const clock = deps.clock ?? realClock;
  const now = deps.now ?? Date.now;
  const log = deps.logger ?? silentLogger;
  const newId = deps.newId ?? createTimeOrderedIdGenerator(now);
  const reassemblyTimeoutMs = deps.reassemblyTimeoutMs ?? DEFAULT_REASSEMBLY_TIMEOUT_MS;
  const dedupWindowMs = deps.dedupWindowMs ?? DEFAULT_DEDUP_WINDOW_MS;
  const sweeper = new ReassemblySweeper({
    store: deps.store,
    events: deps.events,
    clock,
    now,
    reassemblyTimeoutMs,
    sweepIntervalMs: deps.sweepIntervalMs ?? Math.min(30_000, Math.max(1_000, reassemblyTimeoutMs / 10)),
    routeOfBind: deps.routeOfBind,
    newId,
    logger: log,
  });
  const ok: InboundResult = { commandStatus: CommandStatus.ESME_ROK };
  const batcher = new MoBatcher(
    { store: deps.store, events: deps.events, dedupWindowMs, newId },
    deps.maxMoBatch ?? DEFAULT_MAX_MO_BATCH,
  );

  const moTotal = new Counter({
    name: 'smpp_inbound_mo_total',
    help: 'MO deliver_sm/data_sm received, by outcome: delivered (stored, a message), part_stored (a part of a set), duplicate (a redelivery, acknowledged again), failed (not stored: a temporary error), malformed.',
    labelNames: ['outcome'],
    registers: [],
  });
  for (const outcome of ['delivered', 'part_stored', 'duplicate', 'failed', 'malformed'] as const) {
    moTotal.inc({ outcome }, 0);
  }
  const answerSeconds = new Histogram({
    name: 'smpp_inbound_answer_duration_seconds',
    help: 'From an inbound deliver_sm/data_sm reaching the handler to its answer (MO: stored durably; receipt: correlated), by kind.',
    labelNames: ['kind'],
    buckets: INBOUND_ANSWER_BUCKETS_SECONDS,
    registers: [],
  });

  const handle: InboundHandler = async (pdu: Pdu, bind: BindSupervisor): Promise<InboundResult> => {
    const kind = classifyInbound(pdu);
    if (kind.kind === 'receipt') {
      const startedAt = performance.now();
      try {
        await deps.receipts.onReceipt({ bindId: bind.id, receipt: kind.receipt, receivedAt: now() });
        return ok;
      } finally {
        answerSeconds.observe({ kind: 'receipt' }, (performance.now() - startedAt) / 1000);
      }
    }
    if (kind.kind !== 'mo') return answerOther(kind, pdu, bind);
    const startedAt = performance.now();
    let outcome: MoOutcomeLabel = 'failed';
    try {
      const result = await storeMoPdu(kind.mo, pdu, bind);
      outcome = result === 'malformed' ? 'malformed' : result;
      return result === 'malformed' ? { commandStatus: CommandStatus.ESME_RX_P_APPN } : ok;
    } finally {
      moTotal.inc({ outcome });
      answerSeconds.observe({ kind: 'mo' }, (performance.now() - startedAt) / 1000);
    }
  };

  const answerOther = (
    kind: Extract<InboundKind, { kind: 'other' | 'unreadable_receipt' }>,
    pdu: Pdu,
    bind: BindSupervisor,
  ): InboundResult => {
    switch (kind.kind) {
      case 'other':
        return { commandStatus: CommandStatus.ESME_RINVCMDID };
      case 'unreadable_receipt':
        // Nothing names the message it is about: it can never be matched, and redelivery cannot help.
        log.warn(
          { code: ErrorCode.InboundMalformed, bindId: bind.id, seq: pdu.sequence_number },
          'delivery receipt without a message id: acknowledged and ignored',
        );
        return ok;
    }
  };

  const storeMoPdu = async (mo: MoPdu, pdu: Pdu, bind: BindSupervisor): Promise<MoOutcome | 'malformed'> => {
    const route = deps.routeOfBind(bind.id);
    const scope = route ?? `bind:${bind.id}`;
    const read = readMoPart(mo, scope, { gsm7Packed: deps.gsm7Packed ?? false });
    if (!read.ok) {
      log.warn(
        { code: ErrorCode.InboundMalformed, err: read.error, bindId: bind.id, seq: pdu.sequence_number },
        'MO with an unreadable UDH: answering ESME_RX_P_APPN',
      );
      return 'malformed';
    }
    const outcome = await batcher.store({
      bindId: bind.id,
      route,
      from: mo.source_addr,
      to: mo.destination_addr,
      part: read.part,
      fingerprint: moFingerprint(mo, scope),
    });
    if (outcome === 'duplicate') {
      log.debug({ bindId: bind.id, from: mo.source_addr }, 'MO redelivered: acknowledged again');
    }
    return outcome;
  };

  return {
    handle,
    metrics: [moTotal, answerSeconds],
    start: () => sweeper.start(),
    sweep: () => sweeper.sweep(),
    close: async () => {
      await batcher.close();
      await sweeper.close();
    },
  };
}
