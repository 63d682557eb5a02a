/**
 * Who may bind, and how (reference §3.3 "Bind with bad credentials"): unknown system_id →
 * ESME_RINVSYSID, wrong password → ESME_RINVPASWD, a bind type the account does not allow →
 * ESME_RBINDFAIL (a 'bind'-class status: a client stops instead of looping), more live binds
 * than maxBinds → overLimitStatus (ESME_RALYBND unless set, or e.g. ESME_RBINDFAIL). Without
 * accounts every system_id and password binds.
 */
import { timingSafeEqual } from 'node:crypto';
import { type Static, Type } from 'typebox';
import { Value } from 'typebox/value';
import type { PathSegment } from '../config/config-path.js';
import { CommandStatus } from '../protocol/command-status.js';
import { bindFieldMaxChars } from '../protocol/layouts.js';
import { checkCase, checkCaseScope, type SimCase } from './cases.js';
import type { SimIssue } from './errors.js';
import { issuesOf, pathOf, StatusSchema, segmentsOf, statusCode, strict } from './validate.js';

export type BindType = 'transmitter' | 'receiver' | 'transceiver';
export const BIND_TYPES: readonly BindType[] = ['transmitter', 'receiver', 'transceiver'];

export interface SimAccount {
  systemId: string;
  password: string;
  /** Bind types allowed; default all three. */
  bindTypes?: BindType[];
  /** Live binds at once for this system_id; default unlimited. */
  maxBinds?: number;
  /** Status for a bind over maxBinds: ESME_RALYBND (default) or e.g. ESME_RBINDFAIL. */
  overLimitStatus?: number;
  /** Message-path cases (cases.ts) for this system_id, each with an optional `destinationPrefix`. */
  cases?: (SimCase & { destinationPrefix?: string })[];
}

/** A C-Octet String field of bind_*: printable ASCII within the spec's length (reference §4.1). */
export function bindField(name: string, minLength = 0) {
  const max = bindFieldMaxChars(name);
  const size = minLength > 0 ? `${minLength} to ${max}` : `at most ${max}`;
  return Type.String({
    minLength,
    maxLength: max,
    pattern: '^[\\x20-\\x7E]*$',
    expected: `a string of ${size} printable ASCII characters (SMPP ${name} is at most ${max + 1} octets with its NUL)`,
  });
}

/**
 * One account, as the simulator's own config file and the service config's `simulator.accounts`
 * both take it (one schema for both).
 */
export const SimAccountSchema = Type.Object(
  {
    systemId: bindField('system_id', 1),
    password: bindField('password'),
    bindTypes: Type.Optional(Type.Array(Type.Union(BIND_TYPES.map((t) => Type.Literal(t))), { minItems: 1 })),
    maxBinds: Type.Optional(Type.Integer({ minimum: 1 })),
    overLimitStatus: Type.Optional(StatusSchema),
    // Checked by cases.ts (resolveAccounts), which also turns status names into codes.
    cases: Type.Optional(Type.Array(Type.Unknown(), { maxItems: 100 })),
  },
  strict,
);
export type SimAccountInput = Static<typeof SimAccountSchema>;

const AccountsSchema = Type.Array(SimAccountSchema);

/**
 * The rules the schema cannot say, for accounts that passed it: systemIds are unique and status
 * names are known (they become codes). Accounts that do not pass the schema give no issues here
 * (the schema check reports them) and no accounts.
 */
export function resolveAccounts(
  value: unknown,
  at: readonly PathSegment[] = [],
): { accounts?: SimAccount[]; issues: { path: PathSegment[]; message: string }[] } {
  if (!Value.Check(AccountsSchema, value)) return { issues: [] };
  const issues: { path: PathSegment[]; message: string }[] = [];
  const accounts = structuredClone(value) as (Omit<SimAccount, 'overLimitStatus'> & {
    overLimitStatus?: number | string;
  })[];
  const seen = new Set<string>();
  accounts.forEach((account, i) => {
    if (seen.has(account.systemId)) {
      issues.push({
        path: [...at, i, 'systemId'],
        message: `duplicate systemId ${JSON.stringify(account.systemId)}`,
      });
    }
    seen.add(account.systemId);
    if (account.cases !== undefined) {
      account.cases = account.cases.map((raw, j) => {
        const { destinationPrefix, ...rest } = raw as Record<string, unknown>;
        const checked = checkCaseScope(destinationPrefix === undefined ? undefined : { destinationPrefix }, [
          ...at,
          i,
          'cases',
          j,
        ]);
        const c = checkCase(rest, [...at, i, 'cases', j]);
        for (const issue of [...c.issues, ...checked.issues]) {
          issues.push({ path: segmentsOf(issue.path), message: issue.message });
        }
        return c.case
          ? {
              ...c.case,
              ...(destinationPrefix === undefined ? {} : { destinationPrefix: destinationPrefix as string }),
            }
          : (raw as SimCase);
      });
    }
    if (account.overLimitStatus !== undefined) {
      const code = statusCode(account.overLimitStatus);
      if (code === undefined) {
        issues.push({
          path: [...at, i, 'overLimitStatus'],
          message: `unknown command_status name ${JSON.stringify(account.overLimitStatus)}`,
        });
      } else account.overLimitStatus = code;
    }
  });
  return issues.length > 0 ? { issues } : { accounts: accounts as SimAccount[], issues };
}

/** Checks accounts given as data (schema, then resolveAccounts); status names become codes. */
export function checkAccounts(
  value: unknown,
  at: readonly PathSegment[] = [],
): { accounts?: SimAccount[]; issues: SimIssue[] } {
  const issues = issuesOf(AccountsSchema, value, at);
  if (issues.length > 0) return { issues };
  const resolved = resolveAccounts(value, at);
  return {
    ...(resolved.accounts ? { accounts: resolved.accounts } : {}),
    issues: resolved.issues.map((issue) => ({ path: pathOf(issue.path), message: issue.message })),
  };
}

export type BindDecision = { ok: true } | { ok: false; status: number; reason: string };

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'latin1');
  const y = Buffer.from(b, 'latin1');
  return x.length === y.length && timingSafeEqual(x, y);
}

export class AccountBook {
  private readonly byId: Map<string, SimAccount> | null;

  /** `undefined` accounts: anyone binds. */
  constructor(accounts: readonly SimAccount[] | undefined) {
    this.byId = accounts ? new Map(accounts.map((a) => [a.systemId, a])) : null;
  }

  get open(): boolean {
    return this.byId === null;
  }

  /**
   * Whether a bind may proceed. `liveBinds` counts the sessions bound with this system_id
   * now (this one excluded).
   */
  decide(systemId: string, password: string, bindType: BindType, liveBinds: number): BindDecision {
    if (this.byId === null) return { ok: true };
    const account = this.byId.get(systemId);
    if (account === undefined) {
      return { ok: false, status: CommandStatus.ESME_RINVSYSID, reason: 'unknown system_id' };
    }
    if (!sameSecret(account.password, password)) {
      return { ok: false, status: CommandStatus.ESME_RINVPASWD, reason: 'wrong password' };
    }
    if (account.bindTypes && !account.bindTypes.includes(bindType)) {
      return { ok: false, status: CommandStatus.ESME_RBINDFAIL, reason: `bind type ${bindType} not allowed` };
    }
    if (account.maxBinds !== undefined && liveBinds >= account.maxBinds) {
      return {
        ok: false,
        status: account.overLimitStatus ?? CommandStatus.ESME_RALYBND,
        reason: `already ${liveBinds} of at most ${account.maxBinds} binds`,
      };
    }
    return { ok: true };
  }
}
