/**
 * Rules the schema cannot express because they relate several keys. They run on the raw
 * tree even when it has schema errors (checking types as they go), so one start lists every
 * problem. A bind's effective value is its own, else `defaults`', else the built-in default.
 */
import { DEFAULT_BIND_TUNING } from '../binds/bind-options.js';
import { resolveAccounts } from '../simulator/accounts.js';
import { webhookConfigIssues } from '../webhooks/config.js';
import type { PathSegment } from './config-path.js';
import type { PathIssue } from './schema-issues.js';
import { DEFAULT_HTTP, DEFAULT_LEASES } from './service-config.js';

type Tree = Record<string, unknown>;

const isTree = (value: unknown): value is Tree =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
const numberAt = (tree: unknown, key: string): number | undefined =>
  isTree(tree) && typeof tree[key] === 'number' ? tree[key] : undefined;

export function crossFieldIssues(root: unknown): PathIssue[] {
  if (!isTree(root)) return [];
  const issues: PathIssue[] = [];
  const defaults = isTree(root.defaults) ? root.defaults : {};
  const binds = Array.isArray(root.binds) ? root.binds : [];

  checkTuning(defaults, {}, ['defaults'], issues);
  binds.forEach((bind, index) => {
    if (!isTree(bind)) return;
    checkTuning(bind, defaults, ['binds', index], issues);
    checkTls(bind.tls, ['binds', index, 'tls'], issues);
  });
  checkUniqueIds(binds, issues);
  checkReadiness(root.readiness, binds.length, issues);
  checkHttpTimeouts(root.http, issues);
  checkLeases(root.leases, issues);
  checkRoutes(root.routes, binds, issues);
  issues.push(...webhookConfigIssues(root));
  if (isTree(root.simulator)) {
    issues.push(...resolveAccounts(root.simulator.accounts, ['simulator', 'accounts']).issues);
  }
  return issues;
}

/**
 * The cross-field rules of one bind entry: its tuning against `defaults` (the raw section or the
 * resolved tuning) and its TLS cert and key. The bind API checks its binds with these.
 */
export function bindCrossFieldIssues(
  bind: unknown,
  defaults: unknown,
  path: PathSegment[] = [],
): PathIssue[] {
  if (!isTree(bind)) return [];
  const issues: PathIssue[] = [];
  checkTuning(bind, isTree(defaults) ? defaults : {}, path, issues);
  checkTls(bind.tls, [...path, 'tls'], issues);
  return issues;
}

/** Checks the keys `own` sets against the values it inherits from `inherited` and the built-in defaults. */
function checkTuning(own: Tree, inherited: Tree, path: PathSegment[], issues: PathIssue[]): void {
  const value = (key: 'enquireLinkIntervalMs' | 'inactivityTimeoutMs') =>
    numberAt(own, key) ?? numberAt(inherited, key) ?? DEFAULT_BIND_TUNING[key];
  const inactivity = value('inactivityTimeoutMs');
  const interval = value('enquireLinkIntervalMs');
  const setsEither = 'inactivityTimeoutMs' in own || 'enquireLinkIntervalMs' in own;
  if (setsEither && inactivity > 0 && inactivity <= interval) {
    issues.push({
      path: [...path, 'inactivityTimeoutMs' in own ? 'inactivityTimeoutMs' : 'enquireLinkIntervalMs'],
      message:
        `inactivityTimeoutMs (${inactivity}) must be 0 (off) or greater than enquireLinkIntervalMs (${interval}): ` +
        'an idle but healthy link only hears from the peer when it probes',
    });
  }

  const ownReconnect = isTree(own.reconnect) ? own.reconnect : {};
  const inheritedReconnect = isTree(inherited.reconnect) ? inherited.reconnect : {};
  const delay = (key: 'initialDelayMs' | 'maxDelayMs') =>
    numberAt(ownReconnect, key) ?? numberAt(inheritedReconnect, key) ?? DEFAULT_BIND_TUNING.reconnect[key];
  const initial = delay('initialDelayMs');
  const max = delay('maxDelayMs');
  if (('initialDelayMs' in ownReconnect || 'maxDelayMs' in ownReconnect) && initial > max) {
    issues.push({
      path: [...path, 'reconnect', 'initialDelayMs' in ownReconnect ? 'initialDelayMs' : 'maxDelayMs'],
      message: `reconnect.initialDelayMs (${initial}) must not exceed reconnect.maxDelayMs (${max})`,
    });
  }
}

function checkTls(tls: unknown, path: PathSegment[], issues: PathIssue[]): void {
  if (!isTree(tls)) return;
  const hasCert = typeof tls.cert === 'string';
  const hasKey = typeof tls.key === 'string';
  if (hasCert !== hasKey) {
    issues.push({
      path: [...path, hasCert ? 'cert' : 'key'],
      message: `a client certificate needs both cert and key; ${hasCert ? 'key' : 'cert'} is missing`,
    });
  }
}

function checkUniqueIds(binds: readonly unknown[], issues: PathIssue[]): void {
  const firstIndex = new Map<string, number>();
  binds.forEach((bind, index) => {
    if (!isTree(bind) || typeof bind.id !== 'string') return;
    const first = firstIndex.get(bind.id);
    if (first === undefined) firstIndex.set(bind.id, index);
    else
      issues.push({
        path: ['binds', index, 'id'],
        message: `duplicate id "${bind.id}": binds[${first}] has it too`,
      });
  });
}

function checkReadiness(readiness: unknown, bindCount: number, issues: PathIssue[]): void {
  if (!isTree(readiness) || typeof readiness.minHealthy !== 'number') return;
  const policy = readiness.policy ?? 'all';
  if (policy !== 'atLeast') {
    if (typeof policy === 'string') {
      issues.push({
        path: ['readiness', 'minHealthy'],
        message: `only used with policy 'atLeast' (policy is '${policy}'); remove it or set policy: atLeast`,
      });
    }
    return;
  }
  if (readiness.minHealthy > bindCount) {
    issues.push({
      path: ['readiness', 'minHealthy'],
      message: `${readiness.minHealthy} healthy binds are required but only ${bindCount} are configured; the service could never be ready`,
    });
  }
}

/** Node refuses a headers timeout longer than the whole-request timeout. */
function checkHttpTimeouts(http: unknown, issues: PathIssue[]): void {
  if (!isTree(http) || !('headersTimeoutMs' in http || 'requestTimeoutMs' in http)) return;
  const headers = numberAt(http, 'headersTimeoutMs') ?? DEFAULT_HTTP.headersTimeoutMs;
  const request = numberAt(http, 'requestTimeoutMs') ?? DEFAULT_HTTP.requestTimeoutMs;
  if (headers > request) {
    issues.push({
      path: ['http', 'headersTimeoutMs' in http ? 'headersTimeoutMs' : 'requestTimeoutMs'],
      message: `http.headersTimeoutMs (${headers}) must not exceed http.requestTimeoutMs (${request}): the headers are part of the request`,
    });
  }
}

/** A lease must outlive two renew intervals: the deadline a replica stops at is TTL − one interval. */
function checkLeases(leases: unknown, issues: PathIssue[]): void {
  if (!isTree(leases) || !('ttlMs' in leases || 'renewIntervalMs' in leases)) return;
  const ttl = numberAt(leases, 'ttlMs') ?? DEFAULT_LEASES.ttlMs;
  const renew = numberAt(leases, 'renewIntervalMs') ?? DEFAULT_LEASES.renewIntervalMs;
  if (!(ttl > 2 * renew)) {
    issues.push({
      path: ['leases', 'ttlMs' in leases ? 'ttlMs' : 'renewIntervalMs'],
      message: `leases.ttlMs (${ttl}) must be more than twice leases.renewIntervalMs (${renew}): a replica stops its binds one interval before its lease can expire`,
    });
  }
}

/** Route ids unique; each route's binds configured and able to send (not receivers). */
function checkRoutes(routes: unknown, binds: readonly unknown[], issues: PathIssue[]): void {
  if (!Array.isArray(routes)) return;
  const bindTypes = new Map<string, unknown>();
  for (const bind of binds) {
    if (isTree(bind) && typeof bind.id === 'string') bindTypes.set(bind.id, bind.bindType ?? 'transceiver');
  }
  const firstIndex = new Map<string, number>();
  routes.forEach((route, index) => {
    if (!isTree(route)) return;
    if (typeof route.id === 'string') {
      const first = firstIndex.get(route.id);
      if (first === undefined) firstIndex.set(route.id, index);
      else
        issues.push({
          path: ['routes', index, 'id'],
          message: `duplicate route id "${route.id}": routes[${first}] has it too`,
        });
    }
    if (!Array.isArray(route.binds)) return;
    route.binds.forEach((bindId, j) => {
      if (typeof bindId !== 'string') return;
      if (!bindTypes.has(bindId)) {
        issues.push({
          path: ['routes', index, 'binds', j],
          message: `no bind "${bindId}" is configured (binds[].id)`,
        });
      } else if (bindTypes.get(bindId) === 'receiver' || bindTypes.get(bindId) === 'rx') {
        issues.push({
          path: ['routes', index, 'binds', j],
          message: `bind "${bindId}" is a receiver and cannot send`,
        });
      }
    });
  });
}
