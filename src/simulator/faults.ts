/**
 * The simulator's fault catalogue, as data, and the table of faults switched on at runtime.
 *
 * A fault applies to the sessions and PDUs its scope matches: `{ systemId, destination,
 * sessionId }`, every key given must match, no key = every session. `systemId` is the
 * session's bound system_id (for a bind request, the system_id it asks for); `destination`
 * is the destination_addr of a submit_sm or data_sm, or any destination of a submit_multi,
 * compared without a leading '+'. A fault with a destination matches nothing else (no bind,
 * no enquire_link).
 *
 * What each fault does to each PDU, and what an ESME sees:
 *
 * | fault | bind_* | enquire_link | unbind | submit_sm / data_sm / submit_multi | query/cancel/replace_sm | deliver_sm the simulator sends (receipts, MO) | the ESME observes |
 * |---|---|---|---|---|---|---|---|
 * | delay `ms` | bind_resp written `ms` later | resp `ms` later | unbind_resp is lost: the connection closes at once after an unbind | resp `ms` later; the message is stored at once and its receipt waits `ms` longer | resp `ms` later | unchanged | slow answers; past its response timeout, a timeout and then an unexpected late response |
 * | blackhole | swallowed, no answer | swallowed | swallowed | swallowed | swallowed | none sent: receipts wait and retry, MO skips the session | bind timeout, or response timeouts and a keepalive timeout; TCP stays open |
 * | enquire_link_only | swallowed | answered | swallowed | swallowed | swallowed | none sent | probes succeed, everything else times out |
 * | drop `fin`/`rst` | accepted, then the connection closes right after bind_resp | — | — | with a destination scope: the connection closes on such a submit, unanswered | — | — | FIN: EOF (`peer_closed`); RST: ECONNRESET (`socket_error`). Set at runtime, matching bound sessions close at once |
 * | refuse_bind `status` | answered with `status` | unchanged | unchanged | unchanged | unchanged | unchanged | SmppBindError carrying `status` |
 * | throttle `maxPerSecond` | unchanged | unchanged | unchanged | beyond `maxPerSecond` in the current one-second window (counted over every session the fault matches): ESME_RTHROTTLED, not stored | unchanged | unchanged | status 0x58 on the excess |
 * | error_status `status`, `commands` | if listed: `status` | if listed: `status` | if listed: `status`, still bound | listed by default: `status`, nothing stored; submit_multi with a destination scope lists those destinations in unsuccess_sme | if listed: `status` | unchanged | that command_status |
 * | wrong_sequence | bind_resp with sequence_number + 2^28 | same | same | same | same | unchanged | the answer is dropped as unexpected; the request times out |
 * | generic_nack `status` (ESME_RSYSERR) | generic_nack | generic_nack | generic_nack, still bound | generic_nack, nothing stored | generic_nack | unchanged | generic_nack with `status` |
 * | malformed | bind_resp with a TLV claiming 5 octets but carrying 1 | a stray 1-octet body (tolerated, reference §11.4) | same as enquire_link | resp with the broken TLV area | query_sm_resp broken as submit_sm_resp; cancel/replace_sm_resp get the stray octet | unchanged | SmppDecodeError for answers with a body (a failed-status answer is read leniently, §1.4) |
 * | bad_length `short`/`long` | command_length 8 or 0x7FFFFFFF | same | same | same | same | unchanged | framing lost: generic_nack ESME_RINVCMDLEN and close (`framing_lost`) |
 * | deliver_before_bind_resp | a deliver_sm (MO) written before bind_resp | — | — | — | — | — | an ESME still binding answers it ESME_RINVBNDSTS |
 * | slow_loris `chunkBytes` (1), `intervalMs` (200) | bind_resp written `chunkBytes` at a time every `intervalMs` | same | same | same | same | unchanged | answers take seconds; timeouts past the response timeout |
 *
 * Precedence on one request: blackhole, enquire_link_only, drop, generic_nack, refuse_bind,
 * error_status, throttle — the first that applies answers (or swallows) it; otherwise the
 * simulator answers normally. The answer then goes through wrong_sequence, malformed and
 * bad_length (bytes), then delay and slow_loris (timing). Of two faults of one kind, the newest
 * wins. Answers the session makes by itself (a wrong-state request, an undecodable PDU) go
 * through the same answer faults; a blackhole or enquire_link_only drops them too. The
 * simulator's own enquire_link (enquireLinkIntervalMs) keeps going under every fault. A reset
 * right after a bind comes 25 ms after bind_resp, so that the client has read it (an RST that
 * arrives with unread data shows as a plain EOF); over TLS the reset acts on the TCP socket.
 */
import { type TSchema, Type } from 'typebox';
import type { PathSegment } from '../config/config-path.js';
import type { CommandName } from '../protocol/constants.js';
import { CommandId } from '../protocol/constants.js';
import { SimErrorCode, type SimIssue, SimulatorError } from './errors.js';
import { MAX_TIMER_MS } from './timer-set.js';
import { issuesOf, pathOf, StatusSchema, statusCode, strict } from './validate.js';

export type Fault =
  | { kind: 'delay'; ms: number }
  | { kind: 'blackhole' }
  | { kind: 'enquire_link_only' }
  | { kind: 'drop'; mode: 'fin' | 'rst' }
  | { kind: 'refuse_bind'; status: number }
  | { kind: 'throttle'; maxPerSecond: number }
  | { kind: 'error_status'; status: number; commands?: string[] }
  | { kind: 'wrong_sequence' }
  | { kind: 'generic_nack'; status?: number }
  | { kind: 'malformed' }
  | { kind: 'bad_length'; mode: 'short' | 'long' }
  | { kind: 'deliver_before_bind_resp' }
  | { kind: 'slow_loris'; chunkBytes?: number; intervalMs?: number };

export type FaultKind = Fault['kind'];
export type FaultOf<K extends FaultKind> = Extract<Fault, { kind: K }>;

export interface FaultScope {
  systemId?: string;
  destination?: string;
  sessionId?: number;
}

export interface FaultEntry {
  id: number;
  fault: Fault;
  scope: FaultScope;
}

/** Commands error_status answers when it names none. */
export const DEFAULT_ERROR_COMMANDS: readonly string[] = ['submit_sm', 'data_sm', 'submit_multi'];
export const DEFAULT_SLOW_LORIS = { chunkBytes: 1, intervalMs: 200 } as const;

/** Requests an ESME sends, the ones error_status may name. */
const REQUEST_COMMANDS = (Object.keys(CommandId) as CommandName[]).filter(
  (name) => !name.endsWith('_resp') && name !== 'generic_nack' && name !== 'outbind' && name !== 'deliver_sm',
);

const kind = <K extends FaultKind>(k: K) => Type.Literal(k);
const milliseconds = (minimum: number) => Type.Integer({ minimum, maximum: MAX_TIMER_MS });

/** Every fault kind: what it does in one line, and the schema of its parameters. */
export const FAULT_CATALOGUE: Readonly<Record<FaultKind, { summary: string; schema: TSchema }>> = {
  delay: {
    summary: 'delay every answer by ms',
    schema: Type.Object({ kind: kind('delay'), ms: milliseconds(0) }, strict),
  },
  blackhole: {
    summary: 'answer nothing at all, keep TCP open',
    schema: Type.Object({ kind: kind('blackhole') }, strict),
  },
  enquire_link_only: {
    summary: 'answer enquire_link, nothing else',
    schema: Type.Object({ kind: kind('enquire_link_only') }, strict),
  },
  drop: {
    summary: 'close the connection: fin (graceful) or rst (reset)',
    schema: Type.Object(
      { kind: kind('drop'), mode: Type.Union([Type.Literal('fin'), Type.Literal('rst')]) },
      strict,
    ),
  },
  refuse_bind: {
    summary: 'refuse binds with status',
    schema: Type.Object({ kind: kind('refuse_bind'), status: StatusSchema }, strict),
  },
  throttle: {
    summary: 'answer ESME_RTHROTTLED above maxPerSecond messages per second',
    schema: Type.Object(
      { kind: kind('throttle'), maxPerSecond: Type.Integer({ minimum: 0, maximum: 1_000_000 }) },
      strict,
    ),
  },
  error_status: {
    summary: 'answer the listed commands (default submit_sm, data_sm, submit_multi) with status',
    schema: Type.Object(
      {
        kind: kind('error_status'),
        status: StatusSchema,
        commands: Type.Optional(
          Type.Array(Type.Union(REQUEST_COMMANDS.map((c) => Type.Literal(c))), { minItems: 1 }),
        ),
      },
      strict,
    ),
  },
  wrong_sequence: {
    summary: 'answer with a wrong sequence_number',
    schema: Type.Object({ kind: kind('wrong_sequence') }, strict),
  },
  generic_nack: {
    summary: 'answer every request with generic_nack (default status ESME_RSYSERR)',
    schema: Type.Object({ kind: kind('generic_nack'), status: Type.Optional(StatusSchema) }, strict),
  },
  malformed: {
    summary: 'answer with PDUs whose body breaks its layout (a truncated TLV area)',
    schema: Type.Object({ kind: kind('malformed') }, strict),
  },
  bad_length: {
    summary: 'answer with a command_length too short (8) or too long (0x7FFFFFFF)',
    schema: Type.Object(
      { kind: kind('bad_length'), mode: Type.Union([Type.Literal('short'), Type.Literal('long')]) },
      strict,
    ),
  },
  deliver_before_bind_resp: {
    summary: 'send a deliver_sm before the bind_resp',
    schema: Type.Object({ kind: kind('deliver_before_bind_resp') }, strict),
  },
  slow_loris: {
    summary: 'write answers chunkBytes (1) at a time every intervalMs (200)',
    schema: Type.Object(
      {
        kind: kind('slow_loris'),
        chunkBytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 65_536 })),
        intervalMs: Type.Optional(milliseconds(1)),
      },
      strict,
    ),
  },
};

export const FAULT_KINDS = Object.keys(FAULT_CATALOGUE) as FaultKind[];

export const FaultScopeSchema = Type.Object(
  {
    systemId: Type.Optional(Type.String({ minLength: 1, maxLength: 15 })),
    destination: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    sessionId: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  strict,
);

const STATUS_KEYS = ['status'] as const;

/**
 * Checks a fault given as data (API, HTTP body, YAML) and returns it with status names turned
 * into codes, or the issues found, each with its key path under `at`.
 */
export function checkFault(
  value: unknown,
  at: readonly PathSegment[] = [],
): { fault?: Fault; issues: SimIssue[] } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { issues: [{ path: pathOf(at), message: 'expected a mapping with a kind' }] };
  }
  const k = (value as { kind?: unknown }).kind;
  if (typeof k !== 'string' || !Object.hasOwn(FAULT_CATALOGUE, k)) {
    return {
      issues: [
        {
          path: pathOf([...at, 'kind']),
          message: `${k === undefined ? 'required key is missing' : `unknown fault kind ${JSON.stringify(k)}`}; expected one of ${FAULT_KINDS.join(', ')}`,
        },
      ],
    };
  }
  const issues = issuesOf(FAULT_CATALOGUE[k as FaultKind].schema, value, at);
  if (issues.length > 0) return { issues };
  const fault = structuredClone(value) as Record<string, unknown>;
  for (const key of STATUS_KEYS) {
    const raw = fault[key];
    if (raw === undefined) continue;
    const code = statusCode(raw as number | string);
    if (code === undefined) {
      issues.push({
        path: pathOf([...at, key]),
        message: `unknown command_status name ${JSON.stringify(raw)}`,
      });
    } else fault[key] = code;
  }
  return issues.length > 0 ? { issues } : { fault: fault as Fault, issues };
}

export function checkScope(
  value: unknown,
  at: readonly PathSegment[] = [],
): { scope?: FaultScope; issues: SimIssue[] } {
  if (value === undefined || value === null) return { scope: {}, issues: [] };
  const issues = issuesOf(FaultScopeSchema, value, at);
  return issues.length > 0 ? { issues } : { scope: { ...(value as FaultScope) }, issues };
}

/** What a fault is matched against: one session, and the destinations of the PDU at hand. */
export interface MatchTarget {
  sessionId: number;
  systemId: string | undefined;
  /** Destinations of the submit_sm/data_sm/submit_multi at hand; undefined for any other PDU. */
  destinations: readonly string[] | undefined;
}

export function normaliseDestination(addr: string): string {
  return addr.startsWith('+') ? addr.slice(1) : addr;
}

function scopeMatches(scope: FaultScope, target: MatchTarget): boolean {
  if (scope.sessionId !== undefined && scope.sessionId !== target.sessionId) return false;
  if (scope.systemId !== undefined && scope.systemId !== target.systemId) return false;
  if (scope.destination !== undefined) {
    if (target.destinations === undefined) return false;
    const wanted = normaliseDestination(scope.destination);
    return target.destinations.some((d) => normaliseDestination(d) === wanted);
  }
  return true;
}

/** The faults switched on, by id. Ids start at 1 and are never reused. */
export class FaultTable {
  private nextId = 1;
  private readonly entries = new Map<number, FaultEntry>();
  /** throttle windows, by fault id: the second they count and how many messages passed in it. */
  private readonly windows = new Map<number, { start: number; count: number }>();

  get size(): number {
    return this.entries.size;
  }

  /** Adds a checked fault (see checkFault); throws SimulatorError for an invalid one. */
  add(fault: Fault, scope: FaultScope = {}): FaultEntry {
    const checked = checkFault(fault, ['fault']);
    const checkedScope = checkScope(scope, ['scope']);
    const issues = [...checked.issues, ...checkedScope.issues];
    if (issues.length > 0 || !checked.fault || !checkedScope.scope)
      throw SimulatorError.invalid('fault', issues);
    const entry: FaultEntry = { id: this.nextId++, fault: checked.fault, scope: checkedScope.scope };
    this.entries.set(entry.id, entry);
    return entry;
  }

  remove(id: number): boolean {
    this.windows.delete(id);
    return this.entries.delete(id);
  }

  clear(): void {
    this.entries.clear();
    this.windows.clear();
  }

  get(id: number): FaultEntry | undefined {
    return this.entries.get(id);
  }

  list(): FaultEntry[] {
    return [...this.entries.values()].map((e) => structuredClone(e));
  }

  /** Faults whose scope matches, newest first. */
  matching(target: MatchTarget): FaultEntry[] {
    if (this.entries.size === 0) return [];
    const out: FaultEntry[] = [];
    for (const entry of this.entries.values()) if (scopeMatches(entry.scope, target)) out.push(entry);
    return out.reverse();
  }

  /** Counts one message against throttle fault `id`; false when its one-second window is full. */
  throttleAllows(id: number, maxPerSecond: number, nowMs: number): boolean {
    const second = Math.floor(nowMs / 1000);
    let w = this.windows.get(id);
    if (w === undefined || w.start !== second) {
      w = { start: second, count: 0 };
      this.windows.set(id, w);
    }
    if (w.count >= maxPerSecond) return false;
    w.count++;
    return true;
  }
}

/** The newest fault of a kind among matched ones. */
export function firstOf<K extends FaultKind>(
  faults: readonly FaultEntry[],
  k: K,
): (FaultEntry & { fault: FaultOf<K> }) | undefined {
  return faults.find((f) => f.fault.kind === k) as (FaultEntry & { fault: FaultOf<K> }) | undefined;
}

export function notFound(id: number): SimulatorError {
  return new SimulatorError(SimErrorCode.NotFound, `no fault with id ${id}`);
}
