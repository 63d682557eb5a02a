/**
 * One accepted connection and what the simulator keeps about it: the SmppSession, the sockets
 * under it, the bound identity, its own timers and answer queue, and whether reading from the
 * client is paused because our answers pile up.
 */
import type net from 'node:net';
import type { Pdu } from '../protocol/pdu.js';
import type { Clock } from '../session/clock.js';
import type { SmppSession } from '../session/session.js';
import type { BindType } from './accounts.js';
import { AnswerQueue } from './answer-faults.js';
import { PartHolder } from './part-holder.js';
import { TimerSet } from './timer-set.js';
import type { SimSessionInfo } from './types.js';

/** A client that reads nothing while flooding us: stop reading until it drains what we wrote. */
export const WRITE_BACKLOG_PAUSE_BYTES = 1 << 20;

export class SimSession {
  readonly since = new Date();
  readonly timers: TimerSet;
  readonly answers: AnswerQueue;
  systemId: string | undefined;
  bindType: BindType | undefined;
  /** The request being handled (answers are matched to it by sequence_number). */
  lastRequest: Pdu | undefined;
  /** A drop is under way: everything received is swallowed. */
  dropping = false;
  /** Reading from the client is paused (see applyBackpressure). */
  paused = false;
  /**
   * Answers a case takes over, by sequence_number (held, delayed or never written): the fault
   * player hands the encoded answer to the function instead of writing it.
   */
  readonly captures = new Map<number, (buf: Buffer) => void>();
  /** Answers to the parts of concatenated messages held by a reverse_parts case. */
  readonly parts: PartHolder;

  constructor(
    readonly session: SmppSession,
    /** The socket the session runs on (a TLSSocket over TLS). */
    readonly socket: net.Socket,
    /** The TCP socket underneath: what a reset acts on. */
    readonly tcp: net.Socket,
    readonly tls: boolean,
    clock: Clock,
  ) {
    this.timers = new TimerSet(clock);
    this.answers = new AnswerQueue(
      (chunk) => session.sendRaw(chunk),
      this.timers,
      () => clock.now(),
      () => this.resumeReading(),
    );
    this.parts = new PartHolder(this.timers, (buf) => this.answers.push({ buf, readyAt: 0 }));
  }

  get id(): number {
    return this.session.id;
  }

  info(): SimSessionInfo {
    return {
      id: this.session.id,
      systemId: this.systemId ?? null,
      bindType: this.bindType ?? null,
      state: this.session.state,
      remote: `${this.session.remoteAddress ?? '?'}:${this.session.remotePort ?? '?'}`,
      tls: this.tls,
      since: this.since.toISOString(),
      counters: { in: { ...this.session.pdusIn }, out: { ...this.session.pdusOut } },
    };
  }

  /**
   * Called for each request: a client that sends faster than we write (its socket backlog is
   * past WRITE_BACKLOG_PAUSE_BYTES) or than a delay/slow_loris fault lets answers out (the
   * answer queue is full) is not read from until that backlog is down again. So nothing we
   * write or hold for one client grows without bound.
   */
  applyBackpressure(): void {
    if (this.socket.writableLength < WRITE_BACKLOG_PAUSE_BYTES && !this.answers.full) return;
    // The session resumes a socket it paused for its own output once that drains: pause it again.
    if (this.paused && this.socket.isPaused()) return;
    this.paused = true;
    this.socket.pause();
    this.resumeReading();
  }

  /** Resumes reading once both backlogs are down; otherwise waits for the one still up. */
  private resumeReading(): void {
    if (!this.paused || this.socket.destroyed) return;
    if (this.socket.writableLength >= WRITE_BACKLOG_PAUSE_BYTES) {
      this.socket.once('drain', () => this.resumeReading());
      return;
    }
    // A full answer queue calls back when it is down to half.
    if (this.answers.full) return;
    this.paused = false;
    this.socket.resume();
  }

  /** Stops everything this session still has to do (it closed, or is being dropped). */
  release(): void {
    this.timers.clearAll(true);
    this.answers.clear();
    this.parts.clear();
    this.captures.clear();
  }
}
