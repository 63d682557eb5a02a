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
import type { BindSupervisor, InboundHandler, InboundResult } from '../../binds/bind.js';
import { ErrorCode } from '../../errors.js';
import { type Logger, silentLogger } from '../../logger.js';
import { CommandStatus } from '../../protocol/command-status.js';
import type { Pdu } from '../../protocol/pdu.js';
import { type Clock, realClock } from '../../session/clock.js';
import type { Store } from '../../store/store.js';
import {
  DEFAULT_DEDUP_WINDOW_MS,
  DEFAULT_REASSEMBLY_TIMEOUT_MS,
  moFingerprint,
  readMoPart,
} from '../mo-reassembly.js';
import type { InboundEventSink, ReceiptSink } from '../ports.js';
import { classifyInbound } from './classify.js';
import { createInboundIdGenerator } from './inbound-id.js';
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
  /** Ids of stored messages; default time-ordered UUIDv7 (inbound-id.ts). */
  newId?: () => string;
  logger?: Logger;
}

export interface InboundPath {
  /** Give this to the registry (`registry.setInboundHandler(inbound.handle)`). */
  readonly handle: InboundHandler;
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
  const newId = deps.newId ?? createInboundIdGenerator(now);
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

  const handle: InboundHandler = async (pdu: Pdu, bind: BindSupervisor): Promise<InboundResult> => {
    const kind = classifyInbound(pdu);
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
      case 'receipt':
        await deps.receipts.onReceipt({ bindId: bind.id, receipt: kind.receipt, receivedAt: now() });
        return ok;
      case 'mo': {
        const route = deps.routeOfBind(bind.id);
        const scope = route ?? `bind:${bind.id}`;
        const read = readMoPart(kind.mo, scope, { gsm7Packed: deps.gsm7Packed ?? false });
        if (!read.ok) {
          log.warn(
            { code: ErrorCode.InboundMalformed, err: read.error, bindId: bind.id, seq: pdu.sequence_number },
            'MO with an unreadable UDH: answering ESME_RX_P_APPN',
          );
          return { commandStatus: CommandStatus.ESME_RX_P_APPN };
        }
        const outcome: MoOutcome = await batcher.store({
          bindId: bind.id,
          route,
          from: kind.mo.source_addr,
          to: kind.mo.destination_addr,
          part: read.part,
          fingerprint: moFingerprint(kind.mo, scope),
        });
        if (outcome === 'duplicate') {
          log.debug({ bindId: bind.id, from: kind.mo.source_addr }, 'MO redelivered: acknowledged again');
        }
        return ok;
      }
    }
  };

  return {
    handle,
    start: () => sweeper.start(),
    sweep: () => sweeper.sweep(),
    close: async () => {
      await batcher.close();
      await sweeper.close();
    },
  };
}
