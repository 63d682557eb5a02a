/**
 * Plays the faults of the fault table (faults.ts) on live sessions: it sees each inbound PDU
 * first (intercept: swallow it, answer it with an error, drop the connection) and each answer
 * last (onAnswer: write it now, later, broken, a few bytes at a time, or never). The byte
 * rewrites themselves are the pure functions of answer-faults.ts.
 */
import type { Logger } from '../logger.js';
import { CommandStatus } from '../protocol/command-status.js';
import type { CommandName } from '../protocol/constants.js';
import type { Pdu, PduOf } from '../protocol/pdu.js';
import type { Clock } from '../session/clock.js';
import { malform, withLength, withSequence, wrongSequence } from './answer-faults.js';
import {
  DEFAULT_ERROR_COMMANDS,
  DEFAULT_SLOW_LORIS,
  type Fault,
  type FaultEntry,
  type FaultTable,
  firstOf,
  type MatchTarget,
} from './faults.js';
import type { SimSession } from './sim-session.js';

const MESSAGE_COMMANDS: ReadonlySet<CommandName> = new Set(['submit_sm', 'data_sm', 'submit_multi']);

export class FaultPlayer {
  constructor(
    private readonly table: FaultTable,
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {}

  /** What a fault scope is matched against: the session, its system_id, the PDU's destinations. */
  target(s: SimSession, pdu?: Pdu): MatchTarget {
    let systemId = s.systemId;
    if (systemId === undefined && pdu && pdu.command.startsWith('bind_')) {
      systemId = (pdu as PduOf<'bind_transceiver'>).system_id;
    }
    let destinations: string[] | undefined;
    if (pdu?.command === 'submit_sm' || pdu?.command === 'data_sm') destinations = [pdu.destination_addr];
    else if (pdu?.command === 'submit_multi') {
      destinations = pdu.dest_address.flatMap((d) => (d.dest_flag === 1 ? [d.destination_addr] : []));
    }
    return { sessionId: s.id, systemId, destinations };
  }

  /** Faults that apply to a session (and the PDU it handles), newest first. */
  matching(s: SimSession, pdu?: Pdu): FaultEntry[] {
    return this.table.size === 0 ? [] : this.table.matching(this.target(s, pdu));
  }

  /** Silent sessions (dropping, blackhole, enquire_link_only) get no deliver_sm. */
  silent(s: SimSession): boolean {
    if (s.dropping) return true;
    if (this.table.size === 0) return false;
    return this.matching(s).some((f) => f.fault.kind === 'blackhole' || f.fault.kind === 'enquire_link_only');
  }

  /** A drop fault just switched on: closes the bound sessions it covers at once. */
  dropNow(entry: FaultEntry, sessions: Iterable<SimSession>): void {
    if (entry.fault.kind !== 'drop' || entry.scope.destination !== undefined) return;
    for (const s of sessions) {
      if (s.session.bound && !s.dropping && this.matching(s).includes(entry)) this.drop(s, entry.fault.mode);
    }
  }

  /** The status a destination-scoped error_status gives one submit_multi destination, if any. */
  destinationError(s: SimSession, addr: string): number | undefined {
    const faults = this.table.matching({ sessionId: s.id, systemId: s.systemId, destinations: [addr] });
    for (const f of faults) {
      if (f.fault.kind !== 'error_status' || f.scope.destination === undefined) continue;
      if ((f.fault.commands ?? DEFAULT_ERROR_COMMANDS).includes('submit_multi')) return f.fault.status;
    }
    return undefined;
  }

  /** Answers held back by a delay fault on this request (a receipt must not overtake them). */
  heldMs(s: SimSession, pdu: Pdu): number {
    return firstOf(this.matching(s, pdu), 'delay')?.fault.ms ?? 0;
  }

  /** Closes the connection: a FIN after what is written, or a TCP reset. */
  drop(s: SimSession, mode: 'fin' | 'rst'): void {
    if (s.session.closed) return;
    s.dropping = true;
    s.answers.clear();
    this.log.info(
      { session: s.id, systemId: s.systemId, mode },
      `fault drop: closing the connection (${mode})`,
    );
    if (mode === 'fin') {
      s.session.destroy('local_close', undefined, true);
      return;
    }
    if (!s.tcp.destroyed) s.tcp.resetAndDestroy();
    s.socket.destroy();
    s.session.destroy('local_close');
  }

  /** Sees each inbound PDU first; true = handled here (swallowed, or answered by a fault). */
  intercept(s: SimSession, pdu: Pdu): boolean {
    if (pdu.command.endsWith('_resp') || pdu.command === 'generic_nack') return s.dropping;
    s.lastRequest = pdu;
    s.applyBackpressure();
    if (s.dropping) return true;
    const faults = this.matching(s, pdu);
    if (faults.length === 0) return false;
    const session = s.session;
    const has = (k: Fault['kind']): boolean => faults.some((f) => f.fault.kind === k);
    if (has('blackhole')) return true;
    if (has('enquire_link_only')) return pdu.command !== 'enquire_link';
    const drop = firstOf(faults, 'drop');
    if (drop && (drop.scope.destination !== undefined || session.bound)) {
      this.drop(s, drop.fault.mode);
      return true;
    }
    const nack = firstOf(faults, 'generic_nack');
    if (nack) {
      session.nack(pdu.sequence_number, nack.fault.status ?? CommandStatus.ESME_RSYSERR);
      return true;
    }
    const refuse = firstOf(faults, 'refuse_bind');
    if (refuse && pdu.command.startsWith('bind_')) {
      this.log.info({ session: s.id, status: refuse.fault.status }, 'fault refuse_bind: bind refused');
      session.rejectBind(pdu, refuse.fault.status);
      return true;
    }
    for (const f of faults) {
      if (f.fault.kind !== 'error_status') continue;
      const commands = f.fault.commands ?? DEFAULT_ERROR_COMMANDS;
      if (!commands.includes(pdu.command)) continue;
      // submit_multi with a destination scope: those destinations fail one by one (see destinationError).
      if (pdu.command === 'submit_multi' && f.scope.destination !== undefined) continue;
      session.respond(pdu, { command_status: f.fault.status });
      return true;
    }
    if (MESSAGE_COMMANDS.has(pdu.command)) {
      const now = this.clock.now();
      for (const f of faults) {
        if (f.fault.kind !== 'throttle') continue;
        if (!this.table.throttleAllows(f.id, f.fault.maxPerSecond, now)) {
          session.respond(pdu, { command_status: CommandStatus.ESME_RTHROTTLED });
          return true;
        }
      }
    }
    return false;
  }

  /** Sees each answer last: writes it now (false), or later, broken, or never (true). */
  onAnswer(s: SimSession, buf: Buffer, pdu: Pdu): boolean {
    if (s.dropping) return true;
    if (s.captures.size > 0) {
      // A case (cases.ts) holds, delays or swallows this answer; the answer faults do not see it.
      const capture = s.captures.get(pdu.sequence_number);
      if (capture !== undefined) {
        s.captures.delete(pdu.sequence_number);
        capture(buf);
        return true;
      }
    }
    const req = s.lastRequest?.sequence_number === pdu.sequence_number ? s.lastRequest : undefined;
    const faults = this.matching(s, req);
    if (faults.length === 0) {
      if (s.answers.empty) return false;
      // Behind answers still held back: keep the order.
      s.answers.push({ buf, readyAt: 0 });
      return true;
    }
    if (faults.some((f) => f.fault.kind === 'blackhole')) return true;
    if (faults.some((f) => f.fault.kind === 'enquire_link_only') && pdu.command !== 'enquire_link_resp')
      return true;
    let out = buf;
    if (firstOf(faults, 'wrong_sequence')) out = withSequence(out, wrongSequence(pdu.sequence_number));
    if (firstOf(faults, 'malformed')) out = malform(out, pdu);
    const badLength = firstOf(faults, 'bad_length');
    if (badLength) out = withLength(out, badLength.fault.mode);
    const delay = firstOf(faults, 'delay');
    const slow = firstOf(faults, 'slow_loris');
    if (out === buf && !delay && !slow && s.answers.empty) return false;
    s.answers.push({
      buf: out,
      readyAt: this.clock.now() + (delay?.fault.ms ?? 0),
      ...(slow
        ? {
            chunkBytes: slow.fault.chunkBytes ?? DEFAULT_SLOW_LORIS.chunkBytes,
            intervalMs: slow.fault.intervalMs ?? DEFAULT_SLOW_LORIS.intervalMs,
          }
        : {}),
    });
    return true;
  }
}
