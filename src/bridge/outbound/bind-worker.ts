/**
 * One bind's sender: while the bind is bound, its window has room, it is not paused (throttled)
 * and its token bucket allows, it claims parts of its routes' queues from the store (whole
 * messages, oldest first) and submits them, in order.
 *
 * - `markPartSending` commits before the PDU is written: the marks of a batch go to the store
 *   together (one group commit), and the PDUs are written in order as their marks land.
 * - Outcomes through submit-outcome.ts: ESME_RTHROTTLED/ESME_RMSGQFUL pause the bind and put the
 *   same part back (its id keeps its place at the head of the queue; parts held locally go back
 *   too, so nothing overtakes it); temporary errors are retried later, up to maxAttempts; a
 *   response timeout makes the part `unknown` (the message `failed` RESPONSE_TIMEOUT) unless the
 *   route resubmits.
 * - Nothing to do → it sleeps: woken by the engine (notifyQueued, the bind bound, a response,
 *   the slow poll), by its own pause or bucket timer. No loop runs while the bind is down.
 * - Direct sends: while nothing of its routes waits in the queue, a message accepted over HTTP
 *   skips it: `reserve` takes room in the window and the rate, the store creates its parts
 *   `sending` on this bind's fence, and `sendReserved` puts them at the tail of the parts held
 *   here, after the commit. That saves the claim and the mark (two statements and a commit per
 *   part). Order: anything queued for its routes ("poked": a message queued, a part released or
 *   retried, the poll, a lease) closes direct sends until a claim has taken the queue's last
 *   part; that claim opens them again inside its own transaction, so a message stored after it in
 *   the writer's order may skip the queue, and it is held back until the claimed parts are in line.
 */
import type { BindSupervisor } from '../../binds/bind.js';
import type { Logger } from '../../logger.js';
import { statusInfo } from '../../protocol/command-status.js';
import type { Pdu } from '../../protocol/pdu.js';
import type { Clock, TimerHandle } from '../../session/clock.js';
import {
  SmppConnectionClosedError,
  SmppNotBoundError,
  SmppResponseTimeoutError,
  SmppWindowWaitTimeoutError,
} from '../../session/errors.js';
import type { BindLease, MessageRecord, PartRecord, Store } from '../../store/store.js';
import { canonicalMessageId } from '../message-id.js';
import type { Route } from '../routing.js';
import { decideSubmitOutcome, type SubmitPolicy, type SubmitResult } from '../submit-outcome.js';
import {
  defaultBurst,
  newBucket,
  type TokenBucketConfig,
  type TokenBucketState,
  take,
} from '../token-bucket.js';
import type { OutboundOptions } from './options.js';
import type { StatusRecorder } from './status.js';
import { submitInit } from './submit-pdu.js';

/** A claimed part, with what is needed to send it. */
interface Held {
  part: PartRecord;
  message: MessageRecord;
  route: Route;
  /** Stored `sending` already (a direct send): written without a mark. */
  sending?: boolean;
}

/** What the worker reports (the engine's metrics). */
export interface WorkerObserver {
  submitted(route: string, bindId: string, latencyMs: number, commandStatus: number): void;
  /** Parked receipts applied when their submit_sm_resp landed. */
  receiptsMatched(n: number): void;
  /** Parts that left the queue for good (submitted, rejected, unknown): the queue bound's count. */
  settled(n: number): void;
}

export interface BindWorkerDeps {
  bindId: string;
  routes: readonly Route[];
  store: Store;
  recorder: StatusRecorder;
  bind: () => BindSupervisor | undefined;
  clock: Clock;
  wallNow: () => number;
  options: OutboundOptions;
  logger: Logger;
  random: () => number;
  observer: WorkerObserver;
  /** Called when the fence was refused (the lease is lost): the engine re-acquires. */
  onFenced: (bindId: string) => void;
  /**
   * Whether this bind may take the route's messages now: always for round_robin and
   * least_outstanding (the binds pull as they have room, which balances by capacity); for
   * failover only while no bind listed before it in the route is usable.
   */
  mayTake: (route: Route, bindId: string) => boolean;
}

const SEND_INTERRUPTED_MARGIN_MS = 1_000;

export class BindWorker {
  readonly bindId: string;
  lease: BindLease | null = null;
  private readonly d: BindWorkerDeps;
  /** Claimed parts not yet sent, oldest first (`head` is the next). */
  private local: Held[] = [];
  private head = 0;
  private marking = 0;
  private inFlight = 0;
  private pausedUntil = 0;
  private throttleStreak = 0;
  private routeCursor = 0;
  private running = false;
  private again = false;
  private stopped = false;
  private timer: TimerHandle | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private sendChain: Promise<void> = Promise.resolve();
  private readonly bucketConfig: TokenBucketConfig | null;
  private bucket: TokenBucketState | null = null;
  private readonly idleWaiters = new Set<() => void>();
  /** Window room taken by reserve() for messages being stored. */
  private reserved = 0;
  /** Bumped whenever a part may have been queued for this bind's routes (poke). */
  private queuedGeneration = 1;
  /**
   * The generation a claim saw, inside its transaction, when it took the queue's last part (or found
   * it empty): while equal, nothing waits in the queue and direct sends are open.
   */
  private emptyGeneration = 0;
  /** A claim runs: its parts are not in `local` yet, so direct sends wait in `deferred`. */
  private claiming = false;
  private deferred: Held[] = [];

  constructor(deps: BindWorkerDeps) {
    this.d = deps;
    this.bindId = deps.bindId;
    const tpsList = deps.routes.map((r) => r.tps).filter((t): t is number => t !== undefined);
    const tps = tpsList.length > 0 ? Math.min(...tpsList) : undefined;
    this.bucketConfig = tps === undefined ? null : { ratePerSecond: tps, burst: defaultBurst(tps) };
  }

  /** Parts claimed, being marked or waiting for their response. */
  get busy(): number {
    return this.local.length - this.head + this.marking + this.inFlight + this.reserved;
  }

  /** Responses outstanding, and reservations being stored (for the shutdown drain). */
  get outstanding(): number {
    return this.marking + this.inFlight + this.reserved;
  }

  /** Bound, lease held, not paused: it can send now. */
  get usable(): boolean {
    return this.lease !== null && this.d.bind()?.isBound === true && this.d.clock.now() >= this.pausedUntil;
  }

  /** Not in its send loop and nothing outstanding (tests on a fake clock step when this holds). */
  get idle(): boolean {
    return !this.running && this.outstanding === 0;
  }

  /** Something may have been queued for this bind's routes: claim before any direct send. */
  poke(): void {
    this.queuedGeneration++;
    this.wake();
  }

  /**
   * Takes room for a message of `parts` parts about to be stored `sending` on this bind: only while
   * it is usable, nothing waits in its routes' queue, and the window (less the parts held, being
   * marked or reserved here) and the rate have room for all its parts. Then exactly one of
   * sendReserved or unreserve must follow.
   */
  reserve(parts: number): boolean {
    const lease = this.lease;
    if (this.stopped || lease === null || this.emptyGeneration !== this.queuedGeneration) return false;
    const bind = this.d.bind();
    if (!bind?.isBound) return false;
    const now = this.d.clock.now();
    if (now < this.pausedUntil) return false;
    const held = this.local.length - this.head + this.deferred.length;
    const room =
      bind.windowCapacity - Math.max(this.inFlight, bind.windowInUse) - this.marking - this.reserved - held;
    if (room < parts) return false;
    if (this.bucketConfig !== null) {
      this.bucket ??= newBucket(this.bucketConfig, now);
      const taken = take(this.bucket, this.bucketConfig, parts, now);
      if (!taken.ok) return false;
      this.bucket = taken.state;
    }
    this.reserved += parts;
    return true;
  }

  /**
   * The reserved message was stored with its parts `sending` on `fence`: they join the tail of the
   * parts held here (behind a claim still running) and go out in order.
   */
  sendReserved(fence: BindLease, route: Route, message: MessageRecord, parts: readonly PartRecord[]): void {
    this.reserved -= parts.length;
    if (this.lease?.epoch !== fence.epoch) {
      // The lease changed hands meanwhile: the new owner finds these parts `sending` and makes them
      // unknown (never sent twice); this process may no longer write them.
      this.d.logger.warn(
        { bind: this.bindId, message: message.id },
        'outbound: the bind lease changed while a message was stored for it; its parts are left to the new owner',
      );
      this.settleIdle();
      return;
    }
    if (this.stopped) {
      // Stopped meanwhile: send() finds out and puts each part back in the queue (never written).
      for (const part of parts) this.send(fence, undefined, { part, message, route, sending: true });
      return;
    }
    const target = this.claiming ? this.deferred : this.local;
    for (const part of parts) target.push({ part, message, route, sending: true });
    this.wake();
  }

  /** A reservation not used (its transaction failed, or the parts were queued instead). */
  unreserve(parts: number): void {
    this.reserved -= parts;
    this.settleIdle();
    this.poke();
  }

  /** Runs the send loop now (or again once the current pass ends). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    void this.run();
  }

  /** Stops claiming and sending; parts held locally go back to the queue. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.clear();
    this.timer = null;
    await this.releaseLocal();
  }

  /** Resolves when no response is outstanding (or at once). */
  whenIdle(): Promise<void> {
    if (this.outstanding === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.add(resolve));
  }

  /** The lease was lost: forget what is held (the store gives it to the new owner). */
  dropLease(): void {
    this.lease = null;
    this.local = [];
    this.head = 0;
    this.deferred = [];
    this.queuedGeneration++;
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      do {
        this.again = false;
        await this.pump();
      } while (this.again && !this.stopped);
    } catch (error) {
      this.d.logger.error({ err: error, bind: this.bindId }, 'outbound: the send loop failed');
    } finally {
      this.running = false;
    }
  }

  private arm(delayMs: number): void {
    const at = this.d.clock.now() + delayMs;
    if (this.timer !== null && this.timerAt <= at && this.timerAt > this.d.clock.now()) return;
    this.timerAt = at;
    if (this.timer === null) this.timer = this.d.clock.setTimer(() => this.wake(), delayMs);
    else this.timer.refresh(delayMs);
  }

  private async pump(): Promise<void> {
    for (;;) {
      const lease = this.lease;
      if (this.stopped || lease === null) return;
      const bind = this.d.bind();
      if (!bind?.isBound) return;
      const now = this.d.clock.now();
      if (now < this.pausedUntil) {
        this.arm(this.pausedUntil - now);
        return;
      }
      const room =
        bind.windowCapacity - Math.max(this.inFlight, bind.windowInUse) - this.marking - this.reserved;
      if (room <= 0) return; // a response wakes us
      if (this.head >= this.local.length) {
        // Nothing queued since a claim took the last part: do not ask the store again.
        if (this.emptyGeneration === this.queuedGeneration) return;
        const claimed = await this.claim(lease, room);
        if (claimed === 0) return;
        continue;
      }
      const batch: Held[] = [];
      const staleBefore = this.d.wallNow() + SEND_INTERRUPTED_MARGIN_MS;
      while (batch.length < room && this.head < this.local.length) {
        const held = this.local[this.head]!;
        if (held.part.claimedUntil !== null && held.part.claimedUntil <= staleBefore) {
          // Held past its visibility: the store may hand it out again; claim afresh.
          this.local = [];
          this.head = 0;
          break;
        }
        // A direct send took its tokens when it was reserved.
        if (this.bucketConfig !== null && held.sending !== true) {
          this.bucket ??= newBucket(this.bucketConfig, now);
          const taken = take(this.bucket, this.bucketConfig, 1, now);
          this.bucket = taken.state;
          if (!taken.ok) {
            this.arm(taken.waitMs);
            break;
          }
        }
        batch.push(held);
        this.head++;
      }
      if (this.head >= this.local.length) {
        this.local = [];
        this.head = 0;
      }
      if (batch.length === 0) return;
      this.dispatch(lease, bind, batch);
    }
  }

  /**
   * Claims from the routes' queues in one transaction, in turn from the cursor, until `limit` parts
   * are held; the number of parts now held. When every route was asked and the claim came short of
   * its limit, the queue had nothing more: direct sends open, from inside the transaction.
   */
  private async claim(lease: BindLease, room: number): Promise<number> {
    const { routes, store, options } = this.d;
    let limit = Math.max(room, Math.min(options.claimBatch, room * 4));
    if (this.bucketConfig !== null) {
      // No more than a few seconds' worth at the route's rate: held parts must go out well within the visibility.
      limit = Math.min(limit, Math.max(1, Math.ceil(this.bucketConfig.ratePerSecond * 2)));
    }
    this.claiming = true;
    let held = 0;
    try {
      let claimed: { route: Route; parts: PartRecord[] }[];
      try {
        claimed = await store.transaction(async (tx) => {
          const generation = this.queuedGeneration;
          const out: { route: Route; parts: PartRecord[] }[] = [];
          let total = 0;
          let asked = 0;
          for (let k = 0; k < routes.length && total < limit; k++) {
            const route = routes[(this.routeCursor + k) % routes.length]!;
            if (!this.d.mayTake(route, this.bindId)) continue;
            asked++;
            const parts = await tx.claimParts(lease, route.id, limit - total, options.visibilityTimeoutMs);
            if (parts.length === 0) continue;
            total += parts.length;
            out.push({ route, parts });
          }
          if (asked === routes.length && total < limit) this.emptyGeneration = generation;
          return out;
        });
      } catch (error) {
        this.queuedGeneration++;
        this.storeFailed(error, 'claim');
        return 0;
      }
      if (claimed.length > 0) {
        const last = claimed.at(-1)!.route;
        this.routeCursor = (routes.indexOf(last) + 1) % routes.length;
      }
      for (const { route, parts } of claimed) {
        for (const h of await this.withMessages(lease, route, parts)) {
          this.local.push(h);
          held++;
        }
      }
    } finally {
      this.claiming = false;
      // Direct sends stored while the claim ran go behind what it took.
      for (const h of this.deferred) this.local.push(h);
      held += this.deferred.length;
      this.deferred = [];
    }
    return held;
  }

  /** Pairs parts with their messages; messages past their validity fail here (once) and are not sent. */
  private async withMessages(lease: BindLease, route: Route, parts: PartRecord[]): Promise<Held[]> {
    // The claim's messages in one read.
    const messages = new Map<string, MessageRecord>();
    for (const message of await this.d.store.getMessages([...new Set(parts.map((p) => p.messageId))])) {
      messages.set(message.id, message);
    }
    const expired: string[] = [];
    const now = this.d.wallNow();
    for (const message of messages.values()) {
      if (message.validityMs !== null && (message.sendAt ?? message.createdAt) + message.validityMs <= now) {
        expired.push(message.id);
      }
    }
    const held: Held[] = [];
    const drop: number[] = [];
    for (const part of parts) {
      const message = messages.get(part.messageId);
      if (message === undefined || expired.includes(part.messageId)) drop.push(part.id);
      else held.push({ part, message, route });
    }
    if (expired.length > 0) {
      try {
        await this.d.recorder.transaction(async (tx, recompute) => {
          for (const id of expired) await recompute(id, { failure: 'VALIDITY_EXPIRED' });
          // The message is final now: its parts are never claimed again.
          await tx.releaseParts(lease, drop);
        });
      } catch (error) {
        this.storeFailed(error, 'expire');
      }
    }
    return held;
  }

  private dispatch(lease: BindLease, bind: BindSupervisor, batch: Held[]): void {
    if (batch.every((h) => h.sending === true) && this.marking === 0) {
      // Stored `sending` already and nothing ahead of them being marked: out at once, in order.
      for (const held of batch) this.send(lease, bind, held);
      return;
    }
    this.marking += batch.length;
    // One transaction for the batch's marks (one commit), committed before any PDU is written.
    const marks = this.markAll(lease, batch);
    this.sendChain = this.sendChain.then(async () => {
      const ok = await marks;
      for (let i = 0; i < batch.length; i++) {
        this.marking--;
        if (!ok[i] || this.stopped) {
          this.settleIdle();
          continue;
        }
        this.send(lease, bind, batch[i]!);
      }
    });
  }

  /** Marks every part `sending` in one transaction; part by part when that fails (one was taken back). */
  private async markAll(lease: BindLease, batch: Held[]): Promise<boolean[]> {
    const { store } = this.d;
    const toMark = batch.filter((h) => h.sending !== true);
    if (toMark.length === 0) return batch.map(() => true);
    try {
      const parts = await store.transaction(async (tx) => {
        const out: PartRecord[] = [];
        for (const held of toMark) out.push(await tx.markPartSending(lease, held.part.id, 0));
        return out;
      });
      for (let i = 0; i < toMark.length; i++) toMark[i]!.part = parts[i]!;
      return batch.map(() => true);
    } catch {
      return Promise.all(
        batch.map((held) =>
          held.sending === true
            ? true
            : store.markPartSending(lease, held.part.id, 0).then(
                (part) => {
                  held.part = part;
                  return true;
                },
                (error: unknown) => {
                  this.storeFailed(error, 'mark');
                  return false;
                },
              ),
        ),
      );
    }
  }

  /** Accepted parts waiting to be recorded: one transaction records all that arrived meanwhile. */
  private accepts: {
    lease: BindLease;
    held: Held;
    smscMessageId: string;
    done: (error?: unknown) => void;
  }[] = [];
  private flushing = false;

  private recordAccepted(lease: BindLease, held: Held, smscMessageId: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.accepts.push({ lease, held, smscMessageId, done: (error) => (error ? reject(error) : resolve()) });
      if (!this.flushing) void this.flushAccepts();
    });
  }

  private async flushAccepts(): Promise<void> {
    this.flushing = true;
    try {
      while (this.accepts.length > 0) {
        const items = this.accepts;
        this.accepts = [];
        try {
          const matched = await this.acceptIn(items);
          for (const item of items) item.done();
          if (matched > 0) this.d.observer.receiptsMatched(matched);
        } catch {
          // One item could not be recorded: record them one by one so the others still land.
          for (const item of items) {
            try {
              const matched = await this.acceptIn([item]);
              if (matched > 0) this.d.observer.receiptsMatched(matched);
              item.done();
            } catch (error) {
              item.done(error);
            }
          }
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private acceptIn(
    items: readonly { lease: BindLease; held: Held; smscMessageId: string }[],
  ): Promise<number> {
    return this.d.recorder.transaction(async (tx, recompute) => {
      let matched = 0;
      for (const { lease, held, smscMessageId } of items) {
        const { part } = held;
        const written = await tx.recordSubmitOutcome(
          lease,
          part.id,
          { kind: 'accepted', smscMessageId },
          part,
        );
        // Receipts that came before this response wait for it.
        const parked = smscMessageId === '' ? [] : await tx.takeParkedReceipts(smscMessageId);
        // The submit is its own status change (message.submitted) before the receipts that beat it.
        if (parked.length > 0) await recompute(part.messageId);
        for (const receipt of parked) {
          await tx.recordReceipt(receipt);
          await tx.appendMessageEvent(part.messageId, 'receipt', {
            part: part.index,
            bindId: receipt.bindId,
            stat: receipt.stat,
            err: receipt.err ?? null,
            doneAt: receipt.doneAt ?? null,
            parked: true,
          });
        }
        matched += parked.length;
        await recompute(part.messageId, parked.length === 0 ? { part: written } : {});
      }
      return matched;
    });
  }

  private send(lease: BindLease, bind: BindSupervisor | undefined, held: Held): void {
    this.inFlight++;
    const { clock } = this.d;
    const sentAt = clock.now();
    let result: Promise<SubmitResult>;
    if (sentAt < this.pausedUntil || bind === undefined || this.stopped) {
      // Paused (throttled) since the batch was marked, or stopped: it goes back, unsent, keeping its place.
      result = Promise.resolve({ kind: 'not_sent' });
    } else {
      result = bind.request('submit_sm', submitInit(held.message, held.part)).then(
        (resp: Pdu): SubmitResult => ({
          kind: 'response',
          commandStatus: resp.command_status,
          messageId: (resp as { message_id?: string }).message_id ?? '',
        }),
        (error: unknown): SubmitResult => {
          if (error instanceof SmppResponseTimeoutError) return { kind: 'timeout' };
          if (error instanceof SmppNotBoundError || error instanceof SmppWindowWaitTimeoutError)
            return { kind: 'not_sent' };
          if (error instanceof SmppConnectionClosedError) return { kind: 'closed' };
          return { kind: 'closed' };
        },
      );
    }
    result
      .then((r) => this.settle(lease, held, r, clock.now() - sentAt))
      .catch((error: unknown) => this.storeFailed(error, 'settle'))
      .finally(() => {
        this.inFlight--;
        this.settleIdle();
        this.wake();
      });
  }

  private settleIdle(): void {
    if (this.outstanding > 0 || this.idleWaiters.size === 0) return;
    for (const resolve of [...this.idleWaiters]) resolve();
    this.idleWaiters.clear();
  }

  private policy(route: Route): SubmitPolicy {
    return { ...this.d.options.retry, resubmitOnTimeout: route.resubmitOnTimeout === true };
  }

  private async settle(lease: BindLease, held: Held, result: SubmitResult, latencyMs: number): Promise<void> {
    const { store, recorder, wallNow } = this.d;
    const { part, route } = held;
    const decision = decideSubmitOutcome(
      result,
      { attempts: part.attempts, throttleStreak: this.throttleStreak },
      this.policy(route),
      this.d.random,
    );
    if (result.kind === 'response') {
      this.d.observer.submitted(route.id, this.bindId, latencyMs, result.commandStatus);
    }
    switch (decision.action) {
      case 'accept': {
        this.throttleStreak = 0;
        const smscMessageId = canonicalMessageId(decision.messageId, 'submit', route.idFormat);
        await this.recordAccepted(lease, held, smscMessageId);
        this.d.observer.settled(1);
        return;
      }
      case 'pause_and_requeue': {
        this.throttleStreak++;
        this.pausedUntil = Math.max(this.pausedUntil, this.d.clock.now() + decision.pauseMs);
        await this.releaseLocal();
        // Due at once: the bind's pause is what holds it back here (a due time on the wall
        // clock could end after the pause and let the next part overtake it); another bind of
        // the route that is not throttled may take it meanwhile.
        await store.recordSubmitOutcome(lease, part.id, {
          kind: 'retry',
          commandStatus: decision.commandStatus,
          retryAt: wallNow(),
          error: statusError(decision.commandStatus),
          notAnAttempt: true,
        });
        this.queuedGeneration++;
        this.arm(decision.pauseMs);
        return;
      }
      case 'retry': {
        await this.releaseLocal();
        await store.recordSubmitOutcome(lease, part.id, {
          kind: 'retry',
          commandStatus: decision.commandStatus ?? 0,
          retryAt: wallNow() + decision.delayMs,
          ...(decision.commandStatus === undefined ? {} : { error: statusError(decision.commandStatus) }),
        });
        this.queuedGeneration++;
        if (decision.rebind)
          this.d
            .bind()
            ?.rebind()
            .catch(() => {});
        return;
      }
      case 'requeue': {
        await this.releaseLocal();
        await store.recordSubmitOutcome(lease, part.id, {
          kind: 'retry',
          commandStatus: 0,
          retryAt: wallNow(),
          notAnAttempt: true,
        });
        this.queuedGeneration++;
        return;
      }
      case 'reject':
        await recorder.transaction(async (tx, recompute) => {
          const written = await tx.recordSubmitOutcome(lease, part.id, {
            kind: 'rejected',
            commandStatus: decision.commandStatus,
            error: statusError(decision.commandStatus),
          });
          await recompute(part.messageId, { part: written });
        });
        this.d.observer.settled(1);
        return;
      case 'unknown':
        await recorder.transaction(async (tx, recompute) => {
          const written = await tx.recordSubmitOutcome(lease, part.id, {
            kind: 'unknown',
            error: {
              code: decision.reason,
              message:
                decision.reason === 'RESPONSE_TIMEOUT'
                  ? 'no submit_sm_resp within the response timeout; the SMS may have been sent'
                  : 'the connection closed before the submit_sm_resp; the SMS may have been sent',
            },
          });
          await recompute(part.messageId, { part: written });
        });
        this.d.observer.settled(1);
        return;
    }
  }

  /** Parts held locally go back to the queue (a throttle or retry: nothing may overtake the part). */
  private async releaseLocal(): Promise<void> {
    // What goes back (these and the part being retried) is queued: claim before any direct send.
    this.queuedGeneration++;
    const lease = this.lease;
    const back = [...this.local.slice(this.head), ...this.deferred];
    this.local = [];
    this.head = 0;
    this.deferred = [];
    if (lease === null || back.length === 0) return;
    const now = this.d.wallNow();
    try {
      await this.d.store.transaction(async (tx) => {
        const claimed = back.filter((h) => h.sending !== true).map((h) => h.part.id);
        if (claimed.length > 0) await tx.releaseParts(lease, claimed);
        // Direct sends never written: queued again, due now, not an attempt.
        for (const h of back) {
          if (h.sending !== true) continue;
          await tx.recordSubmitOutcome(lease, h.part.id, {
            kind: 'retry',
            commandStatus: 0,
            retryAt: now,
            notAnAttempt: true,
          });
        }
      });
    } catch (error) {
      this.storeFailed(error, 'release');
    }
  }

  private storeFailed(error: unknown, what: string): void {
    const code = (error as { code?: unknown }).code;
    if (code === 'SMPP_ERR_STORE_FENCED') {
      this.d.logger.warn(
        { bind: this.bindId },
        `outbound: the bind's lease was lost (${what}); re-acquiring`,
      );
      this.dropLease();
      this.d.onFenced(this.bindId);
      return;
    }
    this.d.logger.error({ err: error, bind: this.bindId }, `outbound: store ${what} failed`);
  }
}

function statusError(commandStatus: number): { code: string; message: string } {
  const info = statusInfo(commandStatus);
  return { code: info.name, message: info.description };
}
