/**
 * The simulator's message-path cases: behaviours a real SMSC shows on the message path (not
 * faults of the connection, see faults.ts), each switched on per account (system_id) and/or per
 * destination prefix, through the control API (POST /cases), the simulator file's `cases` or an
 * account's `cases` (the service config's `simulator.accounts` too).
 *
 * | case | what the simulator does |
 * |---|---|
 * | receipt_before_resp `respDelayMs` (0) | the message becomes final at once; its receipt deliver_sm is written first, the submit_sm_resp `respDelayMs` later |
 * | reverse_parts `holdTimeoutMs` (5000) | answers to the parts of a concatenated message (UDH 8/16-bit or SAR) are held until every part arrived, then written last part first; a set still incomplete after `holdTimeoutMs` is answered as it is (reversed) |
 * | id_format `submit`, `receipt` (hex/decimal), `submitLeadingZeros`, `receiptLeadingZeros` | the submit_sm_resp id and the receipt's id are two renderings of one number (e.g. hex in the response, decimal in the receipt), with leading zeros if asked |
 * | receipt_other_bind | the receipt goes to another RX/TRX bind of the same system_id than the one that submitted (the same one when it is the only one) |
 * | throttle `tps`, or `periodMs` with `burstMs`/`burstCount`, `status` (ESME_RTHROTTLED) | submits above `tps` (a token bucket of `tps` tokens), or the first `burstCount` submits / the first `burstMs` of each `periodMs`, are answered `status` and not stored |
 * | receipts `stats`, `gapMs` (0) | instead of one receipt, one per listed stat in that order, `gapMs` apart: DELIVRD then ENROUTE (out of order), DELIVRD twice (duplicate) |
 * | no_response `share` (1), `receipt` (true) | the message is stored but its submit_sm_resp is never written (for `share` of the messages, spread evenly); its receipt still follows unless `receipt: false` |
 * | mo_redeliver `timeoutMs`, `attempts`, `delayMs` (1000) | an MO deliver_sm not answered within `timeoutMs` is sent again at once with the same content (a retriable error status or no bound receiver: after `delayMs`), up to `attempts` more times |
 *
 * A scope `{ systemId?, destinationPrefix? }` matches a submit of that system_id whose
 * destination starts with the prefix (a leading '+' ignored on both), and an MO of that system_id
 * to such a destination. Of two cases of one kind, the newest wins.
 */
import { type TSchema, Type } from 'typebox';
import type { PathSegment } from '../config/config-path.js';
import { CommandStatus } from '../protocol/command-status.js';
import type { ReceiptStat } from '../protocol/receipt.js';
import { SimErrorCode, type SimIssue, SimulatorError } from './errors.js';
import { normaliseDestination } from './faults.js';
import { MAX_TIMER_MS } from './timer-set.js';
import { issuesOf, pathOf, StatusSchema, statusCode, strict } from './validate.js';

export type IdRendering = 'hex' | 'decimal';

export type SimCase =
  | { kind: 'receipt_before_resp'; respDelayMs?: number }
  | { kind: 'reverse_parts'; holdTimeoutMs?: number }
  | {
      kind: 'id_format';
      submit: IdRendering;
      receipt: IdRendering;
      submitLeadingZeros?: number;
      receiptLeadingZeros?: number;
    }
  | { kind: 'receipt_other_bind' }
  | {
      kind: 'throttle';
      tps?: number;
      periodMs?: number;
      burstMs?: number;
      burstCount?: number;
      status?: number;
    }
  | { kind: 'receipts'; stats: ReceiptStat[]; gapMs?: number }
  | { kind: 'no_response'; share?: number; receipt?: boolean }
  | { kind: 'mo_redeliver'; timeoutMs: number; attempts: number; delayMs?: number };

export type CaseKind = SimCase['kind'];
export type CaseOf<K extends CaseKind> = Extract<SimCase, { kind: K }>;

export interface CaseScope {
  systemId?: string;
  destinationPrefix?: string;
}

export interface CaseEntry {
  id: number;
  case: SimCase;
  scope: CaseScope;
}

export const DEFAULT_HOLD_TIMEOUT_MS = 5_000;
export const DEFAULT_MO_REDELIVER_DELAY_MS = 1_000;
/** Cases switched on at once (config and API together). */
export const MAX_CASES = 1_000;

const RECEIPT_STATS: readonly ReceiptStat[] = [
  'ENROUTE',
  'DELIVRD',
  'EXPIRED',
  'DELETED',
  'UNDELIV',
  'ACCEPTD',
  'UNKNOWN',
  'REJECTD',
  'SKIPPED',
  'SCHEDLD',
];

const kind = <K extends CaseKind>(k: K) => Type.Literal(k);
const ms = (minimum: number) => Type.Integer({ minimum, maximum: MAX_TIMER_MS });
const rendering = Type.Union([Type.Literal('hex'), Type.Literal('decimal')]);
const zeros = Type.Integer({ minimum: 0, maximum: 20 });

export const CASE_CATALOGUE: Readonly<Record<CaseKind, { summary: string; schema: TSchema }>> = {
  receipt_before_resp: {
    summary: 'send the receipt before the submit_sm_resp (the response respDelayMs, default 0, later)',
    schema: Type.Object({ kind: kind('receipt_before_resp'), respDelayMs: Type.Optional(ms(0)) }, strict),
  },
  reverse_parts: {
    summary:
      'hold the answers to the parts of a concatenated message until the set is complete, then answer in reverse order',
    schema: Type.Object({ kind: kind('reverse_parts'), holdTimeoutMs: Type.Optional(ms(1)) }, strict),
  },
  id_format: {
    summary:
      'render the submit_sm_resp id and the receipt id of one message differently (hex/decimal, leading zeros)',
    schema: Type.Object(
      {
        kind: kind('id_format'),
        submit: rendering,
        receipt: rendering,
        submitLeadingZeros: Type.Optional(zeros),
        receiptLeadingZeros: Type.Optional(zeros),
      },
      strict,
    ),
  },
  receipt_other_bind: {
    summary: 'send the receipt on another RX/TRX bind of the same system_id than the one that submitted',
    schema: Type.Object({ kind: kind('receipt_other_bind') }, strict),
  },
  throttle: {
    summary:
      'answer status (ESME_RTHROTTLED) above tps, or for a burst (burstMs or burstCount) at the start of every periodMs',
    schema: Type.Object(
      {
        kind: kind('throttle'),
        tps: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
        periodMs: Type.Optional(ms(1)),
        burstMs: Type.Optional(ms(1)),
        burstCount: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
        status: Type.Optional(StatusSchema),
      },
      strict,
    ),
  },
  receipts: {
    summary:
      'send one receipt per listed stat, in that order, gapMs apart (duplicates, ENROUTE after DELIVRD)',
    schema: Type.Object(
      {
        kind: kind('receipts'),
        stats: Type.Array(Type.Union(RECEIPT_STATS.map((s) => Type.Literal(s))), {
          minItems: 1,
          maxItems: 10,
        }),
        gapMs: Type.Optional(ms(0)),
      },
      strict,
    ),
  },
  no_response: {
    summary:
      'store the message but never write its submit_sm_resp (for share of the messages); the receipt still follows unless receipt: false',
    schema: Type.Object(
      {
        kind: kind('no_response'),
        share: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
        receipt: Type.Optional(Type.Boolean()),
      },
      strict,
    ),
  },
  mo_redeliver: {
    summary:
      'send an MO deliver_sm again (same content) when its answer does not come within timeoutMs, up to attempts more times',
    schema: Type.Object(
      {
        kind: kind('mo_redeliver'),
        timeoutMs: ms(1),
        attempts: Type.Integer({ minimum: 0, maximum: 100 }),
        delayMs: Type.Optional(ms(0)),
      },
      strict,
    ),
  },
};

export const CASE_KINDS = Object.keys(CASE_CATALOGUE) as CaseKind[];

export const CaseScopeSchema = Type.Object(
  {
    systemId: Type.Optional(Type.String({ minLength: 1, maxLength: 15 })),
    destinationPrefix: Type.Optional(
      Type.String({ minLength: 1, maxLength: 20, pattern: '^\\+?[0-9A-Za-z]+$' }),
    ),
  },
  strict,
);

/**
 * Checks a case given as data (API body, YAML, an account's `cases`) and returns it with status
 * names turned into codes, or the issues found, each with its key path under `at`.
 */
export function checkCase(
  value: unknown,
  at: readonly PathSegment[] = [],
): { case?: SimCase; issues: SimIssue[] } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { issues: [{ path: pathOf(at), message: 'expected a mapping with a kind' }] };
  }
  const k = (value as { kind?: unknown }).kind;
  if (typeof k !== 'string' || !Object.hasOwn(CASE_CATALOGUE, k)) {
    return {
      issues: [
        {
          path: pathOf([...at, 'kind']),
          message: `${k === undefined ? 'required key is missing' : `unknown case kind ${JSON.stringify(k)}`}; expected one of ${CASE_KINDS.join(', ')}`,
        },
      ],
    };
  }
  const issues = issuesOf(CASE_CATALOGUE[k as CaseKind].schema, value, at);
  if (issues.length > 0) return { issues };
  const c = structuredClone(value) as Record<string, unknown>;
  if (c.status !== undefined) {
    const code = statusCode(c.status as number | string);
    if (code === undefined) {
      issues.push({
        path: pathOf([...at, 'status']),
        message: `unknown command_status name ${JSON.stringify(c.status)}`,
      });
    } else c.status = code;
  }
  if (k === 'throttle') {
    const t = c as CaseOf<'throttle'>;
    const burst = t.burstMs !== undefined || t.burstCount !== undefined;
    if (t.tps === undefined && !burst) {
      issues.push({
        path: pathOf(at),
        message: 'a throttle needs tps, or periodMs with burstMs or burstCount',
      });
    }
    if (burst && t.periodMs === undefined) {
      issues.push({ path: pathOf([...at, 'periodMs']), message: 'required with burstMs or burstCount' });
    }
    if (t.periodMs !== undefined && !burst) {
      issues.push({ path: pathOf([...at, 'periodMs']), message: 'needs burstMs or burstCount' });
    }
    if (t.burstMs !== undefined && t.periodMs !== undefined && t.burstMs > t.periodMs) {
      issues.push({ path: pathOf([...at, 'burstMs']), message: 'must not be longer than periodMs' });
    }
  }
  return issues.length > 0 ? { issues } : { case: c as SimCase, issues };
}

export function checkCaseScope(
  value: unknown,
  at: readonly PathSegment[] = [],
): { scope?: CaseScope; issues: SimIssue[] } {
  if (value === undefined || value === null) return { scope: {}, issues: [] };
  const issues = issuesOf(CaseScopeSchema, value, at);
  return issues.length > 0 ? { issues } : { scope: { ...(value as CaseScope) }, issues };
}

/** A case with its scope beside its kind, as the simulator file and the control API take it. */
export function checkScopedCase(
  value: unknown,
  at: readonly PathSegment[] = [],
): { entry?: { case: SimCase; scope: CaseScope }; issues: SimIssue[] } {
  const isMapping = value !== null && typeof value === 'object' && !Array.isArray(value);
  const { scope, ...rest } = isMapping ? (value as Record<string, unknown>) : { scope: undefined };
  const c = checkCase(isMapping ? rest : value, at);
  const s = checkCaseScope(scope, [...at, 'scope']);
  const issues = [...c.issues, ...s.issues];
  return c.case && s.scope && issues.length === 0
    ? { entry: { case: c.case, scope: s.scope }, issues }
    : { issues };
}

function scopeMatches(
  scope: CaseScope,
  systemId: string | undefined,
  destination: string | undefined,
): boolean {
  if (scope.systemId !== undefined && scope.systemId !== systemId) return false;
  if (scope.destinationPrefix !== undefined) {
    if (destination === undefined) return false;
    return normaliseDestination(destination).startsWith(normaliseDestination(scope.destinationPrefix));
  }
  return true;
}

/** Runtime state of a throttle or no_response case. */
interface CaseState {
  /** throttle tps: tokens left and when they were counted. */
  tokens: number;
  countedAt: number;
  /** throttle bursts: the period being counted and the submits throttled in it. */
  period: number;
  throttledInPeriod: number;
  /** no_response: the share accumulated so far. */
  owed: number;
}

/** The cases switched on, by id. Ids start at 1 and are never reused. */
export class CaseTable {
  private nextId = 1;
  private readonly entries = new Map<number, CaseEntry & { since: number }>();
  private readonly states = new Map<number, CaseState>();

  get size(): number {
    return this.entries.size;
  }

  /** Adds a case; throws SimulatorError for an invalid one or past MAX_CASES. `now` starts its periods. */
  add(c: SimCase, scope: CaseScope, now: number): CaseEntry {
    const checked = checkCase(c, ['case']);
    const checkedScope = checkCaseScope(scope, ['scope']);
    const issues = [...checked.issues, ...checkedScope.issues];
    if (issues.length > 0 || !checked.case || !checkedScope.scope)
      throw SimulatorError.invalid('case', issues);
    if (this.entries.size >= MAX_CASES) {
      throw SimulatorError.invalid('case', [{ path: '', message: `at most ${MAX_CASES} cases at once` }]);
    }
    const entry = { id: this.nextId++, case: checked.case, scope: checkedScope.scope, since: now };
    this.entries.set(entry.id, entry);
    return { id: entry.id, case: entry.case, scope: entry.scope };
  }

  remove(id: number): boolean {
    this.states.delete(id);
    return this.entries.delete(id);
  }

  clear(): void {
    this.entries.clear();
    this.states.clear();
  }

  list(): CaseEntry[] {
    return [...this.entries.values()].map((e) => structuredClone({ id: e.id, case: e.case, scope: e.scope }));
  }

  /** The newest case of a kind whose scope matches. */
  find<K extends CaseKind>(
    k: K,
    systemId: string | undefined,
    destination: string | undefined,
  ): (CaseEntry & { case: CaseOf<K> }) | undefined {
    if (this.entries.size === 0) return undefined;
    let found: CaseEntry | undefined;
    for (const e of this.entries.values()) {
      if (e.case.kind === k && scopeMatches(e.scope, systemId, destination)) found = e;
    }
    return found as (CaseEntry & { case: CaseOf<K> }) | undefined;
  }

  private state(id: number, now: number, tps = 0): CaseState {
    let s = this.states.get(id);
    if (s === undefined) {
      s = { tokens: tps, countedAt: now, period: -1, throttledInPeriod: 0, owed: 0 };
      this.states.set(id, s);
    }
    return s;
  }

  /** Counts one submit against a throttle case: the status to answer, or undefined to let it through. */
  throttle(entry: CaseEntry & { case: CaseOf<'throttle'> }, now: number): number | undefined {
    const t = entry.case;
    const status = t.status ?? CommandStatus.ESME_RTHROTTLED;
    const since = this.entries.get(entry.id)?.since ?? now;
    const s = this.state(entry.id, now, t.tps);
    if (t.periodMs !== undefined) {
      const period = Math.floor((now - since) / t.periodMs);
      if (period !== s.period) {
        s.period = period;
        s.throttledInPeriod = 0;
      }
      const into = now - since - period * t.periodMs;
      const inTime = t.burstMs === undefined || into < t.burstMs;
      const inCount = t.burstCount === undefined || s.throttledInPeriod < t.burstCount;
      if (inTime && inCount) {
        s.throttledInPeriod++;
        return status;
      }
    }
    if (t.tps !== undefined) {
      s.tokens = Math.min(t.tps, s.tokens + ((now - s.countedAt) * t.tps) / 1000);
      s.countedAt = now;
      if (s.tokens < 1) return status;
      s.tokens -= 1;
    }
    return undefined;
  }

  /** Whether a no_response case swallows this answer: `share` of them, spread evenly, the first included. */
  swallow(entry: CaseEntry & { case: CaseOf<'no_response'> }, now: number): boolean {
    const s = this.state(entry.id, now);
    // The first message is one of them; then one every 1/share (share 0.25: the 1st, 5th, 9th...).
    s.owed += entry.case.share ?? 1;
    if (s.owed > 1e-9) {
      s.owed -= 1;
      return true;
    }
    return false;
  }
}

export function caseNotFound(id: number): SimulatorError {
  return new SimulatorError(SimErrorCode.NotFound, `no case with id ${id}`);
}

/** `n` zeros then the id's number in the given rendering (the number comes from the store's id). */
export function renderId(value: bigint, as: IdRendering, leadingZeros = 0): string {
  return '0'.repeat(leadingZeros) + (as === 'hex' ? value.toString(16) : value.toString(10));
}
