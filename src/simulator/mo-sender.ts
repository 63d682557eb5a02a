/**
 * MO messages the simulator sends as deliver_sm: one message as one deliver_sm (message_payload
 * when it is long) or split into parts (UDH 8-bit, UDH 16-bit, SAR TLVs, or one message_payload),
 * some parts dropped on request, each deliver_sm sent again with the same content when its answer
 * does not come in time (the redelivery policy of the request or of an mo_redeliver case), and
 * bursts of MO at a chosen rate for a chosen count. Every deliver_sm written goes to the delivery
 * log with the answer it got.
 *
 * Bounded: MO messages in flight over all bursts (MAX_MO_IN_FLIGHT; a burst waits for room and
 * catches up), bursts running at once (MAX_RUNNING_BURSTS), finished bursts remembered
 * (MAX_FINISHED_BURSTS), and redelivery waits (owned by the simulator's timers, released on close).
 */

import type { Logger } from '../logger.js';
import { isRetriable } from '../protocol/command-status.js';
import { TlvTag } from '../protocol/constants.js';
import type { PduInit } from '../protocol/pdu.js';
import { type SplitEncoding, type SplitMethod, splitText } from '../protocol/segments.js';
import type { Tlv } from '../protocol/tlv.js';
import type { CaseTable } from './cases.js';
import { DEFAULT_MO_REDELIVER_DELAY_MS } from './cases.js';
import type { Deliveries } from './deliveries.js';
import { moDeliverSm } from './deliveries.js';
import type { DeliveryLog } from './delivery-log.js';
import { SimErrorCode, SimulatorError } from './errors.js';
import type { SimSession } from './sim-session.js';
import type { TimerSet, TimerSetHandle } from './timer-set.js';
import type { MoMessage } from './types.js';

export interface MoRedelivery {
  /** How long a deliver_sm waits for its answer before it is sent again. */
  timeoutMs: number;
  /** Further attempts after the first. */
  attempts: number;
  /** Wait before the next attempt after a retriable error status or with no receiver bound. Default 1000. */
  delayMs?: number;
}

export interface MoRequest extends MoMessage {
  /** Send the text as several parts. */
  split?: { method: SplitMethod; reference?: number };
  /** Parts (1-based) not sent at all. */
  dropParts?: number[];
  /** Overrides an mo_redeliver case; without either, a deliver_sm is sent once. */
  redeliver?: MoRedelivery;
}

export interface MoResult {
  /** Names this MO in the delivery log (its records' moId). */
  id: string;
  /** Parts the message has (1 unless split). */
  parts: number;
  /** deliver_sm written for it, redeliveries included. */
  sent: number;
  /** system_ids that acknowledged every part sent with ESME_ROK. */
  delivered: number;
}

export interface BurstRequest extends MoRequest {
  count: number;
  ratePerSecond: number;
}

export interface BurstInfo {
  id: number;
  from: string;
  to: string;
  systemId: string | null;
  count: number;
  ratePerSecond: number;
  /** MO messages started so far. */
  started: number;
  /** MO whose every part sent was acknowledged ESME_ROK (by at least one system_id). */
  delivered: number;
  /** MO that no system_id acknowledged in full (after any redelivery), or nobody was bound. */
  failed: number;
  state: 'running' | 'done' | 'stopped';
}

export const MAX_MO_IN_FLIGHT = 1_000;
export const MAX_RUNNING_BURSTS = 16;
export const MAX_FINISHED_BURSTS = 100;
export const MAX_BURST_COUNT = 1_000_000;
export const MAX_BURST_RATE = 100_000;
/** MO messages one burst tick may start (a tick that fell behind catches up at most this much). */
const MAX_PER_TICK = 1_000;

export interface MoSenderOptions {
  live: ReadonlyMap<number, SimSession>;
  deliveries: Deliveries;
  cases: CaseTable;
  record: DeliveryLog;
  timers: TimerSet;
  log: Logger;
  /** Answer timeout of a deliver_sm without a redelivery policy. */
  responseTimeoutMs: number;
}

const ENCODING_OF: Record<number, SplitEncoding> = { 0: 'gsm7', 1: 'gsm7', 3: 'latin1', 8: 'ucs2' };

/** The deliver_sm of each part of an MO message (one without `split`). */
export function moParts(mo: MoRequest, reference: number): PduInit<'deliver_sm'>[] {
  if (!mo.split) return [moDeliverSm(mo)];
  const base = moDeliverSm({ ...mo, text: '' });
  const dc = mo.dataCoding;
  const encoding: SplitEncoding | undefined = dc === undefined ? 'auto' : ENCODING_OF[dc];
  if (encoding === undefined) {
    throw SimulatorError.invalid('MO message', [
      { path: 'dataCoding', message: 'a split message takes 0, 1 (GSM 7-bit), 3 (Latin-1) or 8 (UCS-2)' },
    ]);
  }
  const method = mo.split.method;
  const ref = mo.split.reference ?? reference;
  if (method === 'udh8' ? ref > 0xff : ref > 0xffff) {
    throw SimulatorError.invalid('MO message', [
      { path: 'split.reference', message: `at most ${method === 'udh8' ? 255 : 65535} for ${method}` },
    ]);
  }
  let parts: ReturnType<typeof splitText>;
  try {
    parts = splitText(mo.text ?? '', { method, reference: ref, encoding });
  } catch (error) {
    throw SimulatorError.invalid('MO message', [{ path: 'text', message: (error as Error).message }]);
  }
  return parts.map((p) => {
    const tlvs: Tlv[] = [
      ...(p.message_payload ? [{ tag: TlvTag.message_payload, value: p.message_payload }] : []),
      ...p.tlvs.map((t) => ({ tag: t.tag, value: t.value })),
      ...(mo.tlvs ?? []),
    ];
    return {
      ...base,
      esm_class: p.esm_class_flags,
      data_coding: p.data_coding,
      short_message: p.short_message,
      tlvs,
    };
  });
}

export class MoSender {
  private moCounter = 0;
  private reference = 0;
  private closed = false;
  private readonly waits = new Set<{ handle: TimerSetHandle; resolve: (go: boolean) => void }>();
  private readonly bursts = new Map<number, Burst>();
  private burstCounter = 0;
  private inFlight = 0;

  constructor(private readonly opts: MoSenderOptions) {}

  /**
   * Sends an MO to each bound system_id (or the one given), part by part, each deliver_sm (and
   * each redelivery) to the next RX/TRX session of that system_id, round robin. A system_id given
   * with a redelivery policy is sent to even while it has no receiver bound: each attempt then
   * waits delayMs for one.
   */
  async send(mo: MoRequest): Promise<MoResult> {
    this.reference = (this.reference + 1) % 256;
    const parts = moParts(mo, this.reference);
    const id = `mo-${++this.moCounter}`;
    const dropped = new Set(mo.dropParts ?? []);
    const systemIds = new Set<string>();
    for (const s of this.opts.live.values()) {
      const sid = s.systemId;
      if (sid === undefined || systemIds.has(sid) || (mo.systemId !== undefined && sid !== mo.systemId))
        continue;
      if (this.opts.deliveries.pickReceiver(sid) !== undefined) systemIds.add(sid);
    }
    // An MO for a named account with a redelivery policy waits for that account to bind (as an
    // SMSC keeps MO for an ESME that is down); without one it goes to nobody.
    if (
      mo.systemId !== undefined &&
      (mo.redeliver ?? this.opts.cases.find('mo_redeliver', mo.systemId, mo.to)) !== undefined
    ) {
      systemIds.add(mo.systemId);
    }
    const counter = { sent: 0 };
    const perSystem = await Promise.all(
      [...systemIds].map(async (systemId) => {
        const policy = mo.redeliver ?? this.opts.cases.find('mo_redeliver', systemId, mo.to)?.case;
        const results = await Promise.all(
          parts.map((init, i) =>
            dropped.has(i + 1)
              ? true
              : this.deliver(systemId, init, { id, part: i + 1, parts: parts.length }, policy, 1, counter),
          ),
        );
        return results.every(Boolean);
      }),
    );
    const delivered = perSystem.filter(Boolean).length;
    this.opts.log.debug({ id, from: mo.from, to: mo.to, parts: parts.length, delivered }, 'MO injected');
    return { id, parts: parts.length, sent: counter.sent, delivered };
  }

  /** Starts a burst of `count` MO at `ratePerSecond`; `{n}` in the text becomes 1, 2, ... */
  startBurst(req: BurstRequest): BurstInfo {
    if (this.closed) throw new SimulatorError(SimErrorCode.InvalidInput, 'the simulator is closed');
    let running = 0;
    for (const b of this.bursts.values()) if (b.info.state === 'running') running++;
    if (running >= MAX_RUNNING_BURSTS) {
      throw SimulatorError.invalid('burst', [
        { path: '', message: `at most ${MAX_RUNNING_BURSTS} bursts run at once; stop one first` },
      ]);
    }
    // Checks the message (and its split) once, before anything is sent.
    moParts({ ...req, text: (req.text ?? '').replaceAll('{n}', '1') }, 0);
    const id = ++this.burstCounter;
    const burst = new Burst(id, req, this.opts.timers.now(), this);
    this.bursts.set(id, burst);
    this.forgetFinished();
    burst.tick();
    return { ...burst.info };
  }

  stopBurst(id: number): boolean {
    const b = this.bursts.get(id);
    if (b === undefined) return false;
    b.stop();
    return true;
  }

  listBursts(): BurstInfo[] {
    return [...this.bursts.values()].map((b) => ({ ...b.info }));
  }

  burst(id: number): BurstInfo | undefined {
    const b = this.bursts.get(id);
    return b ? { ...b.info } : undefined;
  }

  close(): void {
    this.closed = true;
    for (const b of this.bursts.values()) b.stop();
    for (const w of this.waits) {
      w.handle.clear();
      w.resolve(false);
    }
    this.waits.clear();
  }

  /** @internal for Burst */
  room(): number {
    return this.closed ? 0 : MAX_MO_IN_FLIGHT - this.inFlight;
  }

  /** @internal for Burst */
  startOne(mo: MoRequest): Promise<MoResult | undefined> {
    this.inFlight++;
    return this.send(mo)
      .then(
        (r) => r,
        (error: Error) => {
          this.opts.log.warn({ err: error.message }, 'burst MO not sent');
          return undefined;
        },
      )
      .finally(() => {
        this.inFlight--;
      });
  }

  /** @internal for Burst */
  get timers(): TimerSet {
    return this.opts.timers;
  }

  private forgetFinished(): void {
    if (this.bursts.size <= MAX_RUNNING_BURSTS + MAX_FINISHED_BURSTS) return;
    for (const [id, b] of this.bursts) {
      if (this.bursts.size <= MAX_RUNNING_BURSTS + MAX_FINISHED_BURSTS) break;
      if (b.info.state !== 'running') this.bursts.delete(id);
    }
  }

  /** Resolves true after ms, or false at once when the sender is closed (then or later). */
  private wait(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const w = {
        handle: this.opts.timers.set(() => {
          this.waits.delete(w);
          resolve(!this.closed);
        }, ms),
        resolve,
      };
      this.waits.add(w);
    });
  }

  /** One deliver_sm to one system_id, with its redeliveries; true once it is answered ESME_ROK. */
  private async deliver(
    systemId: string,
    init: PduInit<'deliver_sm'>,
    meta: { id: string; part: number; parts: number },
    policy: MoRedelivery | undefined,
    attempt: number,
    counter: { sent: number },
  ): Promise<boolean> {
    if (this.closed) return false;
    const more = policy !== undefined && attempt <= policy.attempts;
    const delayMs = policy?.delayMs ?? DEFAULT_MO_REDELIVER_DELAY_MS;
    const session = this.opts.deliveries.pickReceiver(systemId);
    if (session === undefined) {
      if (more && (await this.wait(delayMs)))
        return this.deliver(systemId, init, meta, policy, attempt + 1, counter);
      return false;
    }
    const timeoutMs = policy?.timeoutMs ?? this.opts.responseTimeoutMs;
    let request: Promise<{ command_status: number }>;
    try {
      request = session.request('deliver_sm', init, { timeoutMs });
    } catch (error) {
      // The receiver's connection is going (it was picked as it closed): as if it had closed
      // after the write — redeliver, never give the MO up for it.
      this.opts.log.debug(
        { err: (error as Error).message, systemId },
        'MO not written: the receiver is closing',
      );
      if (more && (await this.wait(Math.min(delayMs, 100))))
        return this.deliver(systemId, init, meta, policy, attempt + 1, counter);
      return false;
    }
    counter.sent++;
    const record = this.opts.record.add({
      kind: 'mo',
      at: this.opts.timers.now(),
      sessionId: session.id,
      systemId,
      from: init.source_addr ?? '',
      to: init.destination_addr ?? '',
      attempt,
      moId: meta.id,
      part: meta.part,
      parts: meta.parts,
    });
    let status: number;
    try {
      status = (await request).command_status;
    } catch (error) {
      this.opts.record.unanswered(record, (error as Error).message);
      // No answer in time (or the connection went): the same deliver_sm again, at once.
      return more ? this.deliver(systemId, init, meta, policy, attempt + 1, counter) : false;
    }
    this.opts.record.answered(record, status);
    if (status === 0) return true;
    if (more && isRetriable(status) && (await this.wait(delayMs))) {
      return this.deliver(systemId, init, meta, policy, attempt + 1, counter);
    }
    return false;
  }
}

/** One running burst: a timer that starts as many MO as the rate allows by now. */
class Burst {
  readonly info: BurstInfo;
  private timer: TimerSetHandle | null = null;
  private readonly tickMs: number;
  private inFlight = 0;

  constructor(
    id: number,
    private readonly req: BurstRequest,
    private readonly startedAt: number,
    private readonly sender: MoSender,
  ) {
    this.info = {
      id,
      from: req.from,
      to: req.to,
      systemId: req.systemId ?? null,
      count: req.count,
      ratePerSecond: req.ratePerSecond,
      started: 0,
      delivered: 0,
      failed: 0,
      state: 'running',
    };
    this.tickMs = Math.max(10, Math.floor(1000 / req.ratePerSecond));
  }

  readonly tick = (): void => {
    this.timer = null;
    if (this.info.state !== 'running') return;
    const now = this.sender.timers.now();
    const due = Math.min(
      this.req.count,
      Math.floor(((now - this.startedAt) * this.req.ratePerSecond) / 1000) + 1,
    );
    const n = Math.min(due - this.info.started, MAX_PER_TICK, this.sender.room());
    const template = this.req.text ?? `burst ${this.info.id} message {n}`;
    for (let i = 0; i < n; i++) {
      const k = ++this.info.started;
      this.inFlight++;
      void this.sender.startOne({ ...this.req, text: template.replaceAll('{n}', String(k)) }).then((r) => {
        this.inFlight--;
        if (r !== undefined && r.delivered > 0) this.info.delivered++;
        else this.info.failed++;
        this.finishIfDone();
      });
    }
    if (this.info.started < this.req.count) this.timer = this.sender.timers.set(this.tick, this.tickMs);
  };

  stop(): void {
    this.timer?.clear();
    this.timer = null;
    if (this.info.state === 'running') this.info.state = 'stopped';
  }

  private finishIfDone(): void {
    if (this.info.state === 'running' && this.info.started === this.req.count && this.inFlight === 0) {
      this.info.state = 'done';
    }
  }
}
