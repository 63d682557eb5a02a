/**
 * Which route carries a message, and which bind of that route sends it: pure, from (config, the
 * message's destination, each bind's cheap state) to a choice. No I/O; the caller keeps the round-robin
 * cursor and the pin.
 *
 * Config (`routes:`):
 *   - { id, binds: [ids], prefixes?: [digits], strategy: round_robin | least_outstanding | failover,
 *       tps?, idFormat? }
 *   Without routes, every transmitter-capable bind (transmitter, transceiver) forms one route `default`,
 *   round robin.
 *
 * Route selection:
 *   1. An explicit `route` in the request names the route (unknown id: ROUTE_NOT_FOUND).
 *   2. Else the route with the longest prefix matching the destination (a leading `+` is ignored).
 *   3. Else the first route without prefixes (a catch-all).
 *   4. Else NO_ROUTE (the message fails: message-status `failed`/NO_ROUTE).
 *
 * Bind selection: a bind is usable when bound, not paused (throttled: submit-outcome.ts), and its window
 * has room. round_robin takes the next usable bind after the cursor; least_outstanding the usable bind
 * with the lowest window use (ties: the next after the cursor); failover the first usable bind in
 * config order. With none usable the answer is `wait` (NOT_BOUND when no bind is bound, else BUSY): the
 * message stays queued, it is not requeued in a loop (Jasmin #1036 requeued every ~70 ms while
 * unbound).
 *
 * All parts of one message go to the same bind (the caller pins it after the first part): one session
 * sees the whole set, and its receipts come back where its ids were issued (Jasmin #599). A pinned bind
 * that is not bound makes the rest of the message wait for it.
 */
import { ErrorCode, SmppError } from '../errors.js';
import type { IdFormat } from './message-id.js';
import { ID_FORMATS } from './message-id.js';

export type RouteStrategy = 'round_robin' | 'least_outstanding' | 'failover';
export const ROUTE_STRATEGIES: readonly RouteStrategy[] = ['round_robin', 'least_outstanding', 'failover'];

/** One `routes:` entry as configured. */
export interface RouteConfig {
  id: string;
  binds: readonly string[];
  prefixes?: readonly string[];
  strategy?: RouteStrategy;
  /** PDUs per second for each bind of the route (one token bucket per bind: token-bucket.ts). */
  tps?: number;
  idFormat?: IdFormat;
  /** Resend after a response timeout (may duplicate the SMS). Default false. */
  resubmitOnTimeout?: boolean;
}

export interface Route {
  readonly id: string;
  readonly binds: readonly string[];
  /** Digits only, longest first. Empty = catch-all. */
  readonly prefixes: readonly string[];
  readonly strategy: RouteStrategy;
  readonly tps?: number;
  readonly idFormat: IdFormat;
  readonly resubmitOnTimeout?: boolean;
}

export interface RouteTable {
  readonly routes: readonly Route[];
  readonly byId: ReadonlyMap<string, Route>;
}

/** What routing needs to know of a configured bind. */
export interface BindInfo {
  id: string;
  bindType: 'transmitter' | 'receiver' | 'transceiver';
}

/** One problem in the routes config, with the key's path (`routes[1].binds[0]`). */
export interface RouteIssue {
  path: string;
  message: string;
}

const PREFIX = /^\+?[0-9]{1,20}$/;

function canTransmit(b: BindInfo): boolean {
  return b.bindType === 'transmitter' || b.bindType === 'transceiver';
}

/** Every problem in a routes config at once (for the config loader's exit-2 report). */
export function routeIssues(
  routes: readonly RouteConfig[] | undefined,
  binds: readonly BindInfo[],
): RouteIssue[] {
  const issues: RouteIssue[] = [];
  const known = new Map(binds.map((b) => [b.id, b]));
  const ids = new Set<string>();
  (routes ?? []).forEach((r, i) => {
    const at = `routes[${i}]`;
    if (typeof r.id !== 'string' || r.id.length === 0)
      issues.push({ path: `${at}.id`, message: 'must be a non-empty string' });
    else if (ids.has(r.id)) issues.push({ path: `${at}.id`, message: `duplicate route id "${r.id}"` });
    else ids.add(r.id);
    if (!Array.isArray(r.binds) || r.binds.length === 0) {
      issues.push({ path: `${at}.binds`, message: 'must list at least one bind' });
    } else {
      r.binds.forEach((id, j) => {
        const b = known.get(id);
        if (!b) issues.push({ path: `${at}.binds[${j}]`, message: `no bind "${id}" is configured` });
        else if (!canTransmit(b)) {
          issues.push({ path: `${at}.binds[${j}]`, message: `bind "${id}" is a receiver and cannot send` });
        }
      });
    }
    (r.prefixes ?? []).forEach((p, j) => {
      if (typeof p !== 'string' || !PREFIX.test(p)) {
        issues.push({ path: `${at}.prefixes[${j}]`, message: 'must be digits (an optional leading +)' });
      }
    });
    if (r.strategy !== undefined && !ROUTE_STRATEGIES.includes(r.strategy)) {
      issues.push({ path: `${at}.strategy`, message: `must be one of ${ROUTE_STRATEGIES.join(', ')}` });
    }
    if (r.tps !== undefined && !(Number.isFinite(r.tps) && r.tps > 0)) {
      issues.push({ path: `${at}.tps`, message: 'must be a positive number' });
    }
    if (r.idFormat !== undefined && !ID_FORMATS.includes(r.idFormat)) {
      issues.push({ path: `${at}.idFormat`, message: `must be one of ${ID_FORMATS.join(', ')}` });
    }
  });
  return issues;
}

/** The route table; throws SMPP_ERR_BRIDGE_ROUTE_CONFIG listing every issue. */
export function buildRouteTable(
  routes: readonly RouteConfig[] | undefined,
  binds: readonly BindInfo[],
): RouteTable {
  const issues = routeIssues(routes, binds);
  if (issues.length > 0) {
    throw new SmppError(ErrorCode.BridgeRouteConfig, issues.map((i) => `${i.path}: ${i.message}`).join('; '));
  }
  const list: Route[] =
    routes && routes.length > 0
      ? routes.map((r) => {
          const route: Route = {
            id: r.id,
            binds: [...r.binds],
            prefixes: [...new Set((r.prefixes ?? []).map(stripPlus))].sort((a, b) => b.length - a.length),
            strategy: r.strategy ?? 'round_robin',
            idFormat: r.idFormat ?? 'string',
            ...(r.tps === undefined ? {} : { tps: r.tps }),
            ...(r.resubmitOnTimeout ? { resubmitOnTimeout: true } : {}),
          };
          return route;
        })
      : defaultRoute(binds);
  return { routes: list, byId: new Map(list.map((r) => [r.id, r])) };
}

function defaultRoute(binds: readonly BindInfo[]): Route[] {
  const tx = binds.filter(canTransmit).map((b) => b.id);
  return tx.length === 0
    ? []
    : [{ id: 'default', binds: tx, prefixes: [], strategy: 'round_robin', idFormat: 'string' }];
}

function stripPlus(s: string): string {
  return s.startsWith('+') ? s.slice(1) : s;
}

export type RouteChoice =
  | { readonly ok: true; readonly route: Route }
  | { readonly ok: false; readonly code: 'ROUTE_NOT_FOUND' | 'NO_ROUTE'; readonly message: string };

/** The route for a message: explicit id, else longest matching prefix, else the first catch-all. */
export function selectRoute(table: RouteTable, destination: string, explicit?: string): RouteChoice {
  if (explicit !== undefined) {
    const route = table.byId.get(explicit);
    return route
      ? { ok: true, route }
      : { ok: false, code: 'ROUTE_NOT_FOUND', message: `no route "${explicit}"` };
  }
  const digits = stripPlus(destination);
  let best: Route | undefined;
  let bestLength = -1;
  let catchAll: Route | undefined;
  for (const route of table.routes) {
    if (route.prefixes.length === 0) {
      catchAll ??= route;
      continue;
    }
    // Prefixes are sorted longest first: the first match is this route's longest.
    const match = route.prefixes.find((p) => digits.startsWith(p));
    if (match !== undefined && match.length > bestLength) {
      best = route;
      bestLength = match.length;
    }
  }
  const route = best ?? catchAll;
  return route
    ? { ok: true, route }
    : { ok: false, code: 'NO_ROUTE', message: `no route for destination ${destination}` };
}

/** A bind's cheap state, as the registry already has it. */
export interface BindState {
  readonly bound: boolean;
  readonly inFlight: number;
  readonly capacity: number;
  /** Paused (throttled) until this time (ms, caller's clock); 0 = not paused. */
  readonly pausedUntil: number;
}

export type BindChoice =
  | { readonly ok: true; readonly bindId: string; readonly nextCursor: number }
  | { readonly ok: false; readonly wait: 'NOT_BOUND' | 'BUSY' };

const NOT_BOUND: BindChoice = Object.freeze({ ok: false, wait: 'NOT_BOUND' });
const BUSY: BindChoice = Object.freeze({ ok: false, wait: 'BUSY' });

function usable(s: BindState | undefined, now: number): boolean {
  if (!s?.bound) return false;
  return now >= s.pausedUntil && s.inFlight < s.capacity;
}

/**
 * The bind to send on. `cursor` is the route's round-robin position (start at 0; store nextCursor).
 * `pinned` is the bind the message's earlier parts went to: it is kept while bound, even when busy.
 */
export function pickBind(
  route: Route,
  states: ReadonlyMap<string, BindState>,
  now: number,
  cursor = 0,
  pinned?: string,
): BindChoice {
  const n = route.binds.length;
  if (pinned !== undefined) {
    const s = states.get(pinned);
    if (!s?.bound) return NOT_BOUND;
    return usable(s, now) ? { ok: true, bindId: pinned, nextCursor: cursor } : BUSY;
  }
  const start = ((cursor % n) + n) % n;
  let chosen = -1;
  switch (route.strategy) {
    case 'failover':
      chosen = route.binds.findIndex((id) => usable(states.get(id), now));
      break;
    case 'round_robin':
      for (let k = 0; k < n && chosen < 0; k++) {
        const i = (start + k) % n;
        if (usable(states.get(route.binds[i]!), now)) chosen = i;
      }
      break;
    case 'least_outstanding': {
      let best = Number.POSITIVE_INFINITY;
      for (let k = 0; k < n; k++) {
        const i = (start + k) % n;
        const s = states.get(route.binds[i]!);
        if (!s || !usable(s, now)) continue;
        const use = s.inFlight / s.capacity;
        if (use < best) {
          best = use;
          chosen = i;
        }
      }
      break;
    }
  }
  if (chosen < 0) return route.binds.some((id) => states.get(id)?.bound) ? BUSY : NOT_BOUND;
  return { ok: true, bindId: route.binds[chosen]!, nextCursor: (chosen + 1) % n };
}
