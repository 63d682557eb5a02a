/**
 * What the API shows of a bind: the summary in lists, the cheap health check of the readiness
 * path (no full health model is built for it), and the configuration without its secrets.
 */
import type { BindSupervisor, HealthTransition } from '../binds/bind.js';
import type { BindOptions } from '../binds/bind-options.js';
import type { BindRegistry } from '../binds/registry.js';
import type { BindConfig, BindSummary, HealthCheck } from './schemas/bind.js';

/**
 * Since when each bind's status has been what it is, kept from the registry's transitions so the
 * hot path does not build the full health model to learn it.
 */
export class SinceTracker {
  private readonly since = new Map<string, string>();
  private readonly onTransition = (t: HealthTransition): void => {
    this.since.set(t.bindId, t.at);
  };

  private readonly onRemoved = ({ bindId }: { bindId: string }): void => {
    this.since.delete(bindId);
  };

  constructor(private readonly registry: BindRegistry) {
    registry.on('transition', this.onTransition);
    registry.on('removed', this.onRemoved);
  }

  /** Call after the bind's health was refreshed (a transition then has updated the map). */
  get(bind: BindSupervisor): string {
    let since = this.since.get(bind.id);
    if (since === undefined) {
      since = bind.health().since;
      this.since.set(bind.id, since);
    }
    return since;
  }

  /** Drops what is kept of a bind removed from the registry. */
  forget(id: string): void {
    this.since.delete(id);
  }

  close(): void {
    this.registry.off('transition', this.onTransition);
    this.registry.off('removed', this.onRemoved);
  }
}

/**
 * The binds in id order (UTF-16 code unit order, the same on every run), rebuilt only when the
 * registry's binds change: a listing page is a binary search and a slice, not a sort of 10,000 ids.
 */
export class SortedBinds {
  private sorted: BindSupervisor[] = [];
  private ids: string[] = [];

  constructor(private readonly registry: BindRegistry) {}

  get(): { binds: readonly BindSupervisor[]; ids: readonly string[] } {
    if (!this.isCurrent()) {
      this.sorted = this.registry.list().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      this.ids = this.sorted.map((b) => b.id);
    }
    return { binds: this.sorted, ids: this.ids };
  }

  /** Same size and every cached bind still the registry's: an O(n) check without allocation. */
  private isCurrent(): boolean {
    if (this.sorted.length !== this.registry.size) return false;
    for (const bind of this.sorted) if (this.registry.get(bind.id) !== bind) return false;
    return true;
  }
}

/** The opaque cursor of a listing page: where it ended (the last id), base64url. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(`id:${lastId}`, 'utf8').toString('base64url');
}

/** The last id a cursor names, or null when the text is not a cursor of ours. */
export function decodeCursor(cursor: string): string | null {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  return text.startsWith('id:') && encodeCursor(text.slice(3)) === cursor ? text.slice(3) : null;
}

export interface ListQuery {
  statuses: ReadonlySet<string> | null;
  limit: number;
  /** List the binds with ids after this one. */
  after: string | null;
}

/**
 * One page of the bind listing: binds in id order after `after`, filtered by status, at most
 * `limit`. nextCursor is set only when another matching bind follows, so the last page says so.
 */
export function listBinds(
  sorted: SortedBinds,
  since: SinceTracker,
  query: ListQuery,
  ownerOf: OwnerLookup = NO_OWNER,
): { binds: BindSummary[]; nextCursor: string | null } {
  const { binds, ids } = sorted.get();
  let i = query.after === null ? 0 : firstAfter(ids, query.after);
  const page: BindSummary[] = [];
  for (; i < binds.length; i++) {
    const bind = binds[i]!;
    if (query.statuses !== null && !query.statuses.has(bind.refreshHealth().status)) continue;
    if (page.length === query.limit) return { binds: page, nextCursor: encodeCursor(page.at(-1)!.id) };
    page.push(bindSummary(bind, since, ownerOf));
  }
  return { binds: page, nextCursor: null };
}

/** Index of the first id greater than `id` in the sorted ids. */
function firstAfter(ids: readonly string[], id: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! <= id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The replica that runs a bind (registry.ownerOf), null when unknown or not shared. */
export type OwnerLookup = (id: string) => string | null;

const NO_OWNER: OwnerLookup = () => null;

export function bindSummary(
  bind: BindSupervisor,
  since: SinceTracker,
  ownerOf: OwnerLookup = NO_OWNER,
): BindSummary {
  const verdict = bind.refreshHealth();
  return {
    id: bind.id,
    owner: ownerOf(bind.id),
    status: verdict.status,
    code: verdict.code,
    reason: verdict.reason,
    state: bind.state,
    lastRttMs: bind.lastRttMs,
    since: since.get(bind),
  };
}

export interface HealthQuery {
  strict?: boolean;
  maxLatencyMs?: number;
  maxAgeMs?: number;
  detail?: boolean;
}

/**
 * The health check of one bind under the query's extra conditions. Checks run in order and the
 * first that fails is reported: status (unhealthy, stopped or standby), strict (degraded), maxLatencyMs
 * (last round trip above it; passes while no probe has been answered yet), maxAgeMs (last proof
 * of life older than it, or not bound).
 */
export function checkBind(bind: BindSupervisor, since: SinceTracker, query: HealthQuery): HealthCheck {
  const verdict = bind.refreshHealth();
  const lastRttMs = bind.lastRttMs;
  const age = bind.aliveAgeMs();
  const aliveAgeMs = age === null ? null : Math.round(age);
  let failedCheck: HealthCheck['failedCheck'] = null;
  let failedReason: string | null = null;
  // A standby bind fails too (503, code STANDBY): a per-bind readiness check must not send work to
  // a replica that does not run the bind.
  if (verdict.status === 'unhealthy' || verdict.status === 'stopped' || verdict.status === 'standby') {
    failedCheck = 'status';
    failedReason = `${verdict.status}: ${verdict.reason}`;
  } else if (query.strict === true && verdict.status === 'degraded') {
    failedCheck = 'strict';
    failedReason = `degraded fails with strict=true: ${verdict.reason}`;
  } else if (query.maxLatencyMs !== undefined && lastRttMs !== null && lastRttMs > query.maxLatencyMs) {
    failedCheck = 'maxLatencyMs';
    failedReason = `last enquire_link round trip ${lastRttMs} ms > maxLatencyMs ${query.maxLatencyMs}`;
  } else if (query.maxAgeMs !== undefined && (aliveAgeMs === null || aliveAgeMs > query.maxAgeMs)) {
    failedCheck = 'maxAgeMs';
    failedReason =
      aliveAgeMs === null
        ? 'no proof of life: not bound'
        : `last proof of life ${aliveAgeMs} ms ago > maxAgeMs ${query.maxAgeMs}`;
  }
  return {
    id: bind.id,
    status: verdict.status,
    code: verdict.code,
    reason: verdict.reason,
    since: since.get(bind),
    state: bind.state,
    lastRttMs,
    aliveAgeMs,
    passing: failedCheck === null,
    failedCheck,
    failedReason,
    ...(query.detail === true ? { health: bind.health() } : {}),
  };
}

/**
 * The configuration of a bind as the API shows it: an allow-list of keys. The password and the
 * TLS key, certificate and CA text are never copied; the TLS part says only whether they are set.
 */
export function safeBindConfig(o: BindOptions): BindConfig {
  return {
    id: o.id,
    host: o.host,
    port: o.port,
    bindType: o.bindType,
    systemId: o.systemId,
    systemType: o.systemType,
    interfaceVersion: o.interfaceVersion,
    addrTon: o.addrTon,
    addrNpi: o.addrNpi,
    addressRange: o.addressRange,
    tls: {
      enabled: o.tls.enabled,
      ...(o.tls.servername === undefined ? {} : { servername: o.tls.servername }),
      rejectUnauthorized: o.tls.rejectUnauthorized,
      customCa: o.tls.ca !== undefined && o.tls.ca !== '',
      clientCertificate:
        o.tls.cert !== undefined && o.tls.cert !== '' && o.tls.key !== undefined && o.tls.key !== '',
    },
    enquireLinkIntervalMs: o.enquireLinkIntervalMs,
    enquireLinkTimeoutMs: o.enquireLinkTimeoutMs,
    maxMissedProbes: o.maxMissedProbes,
    inactivityTimeoutMs: o.inactivityTimeoutMs,
    degradedLatencyMs: o.degradedLatencyMs,
    minProbeIntervalMs: o.minProbeIntervalMs,
    connectTimeoutMs: o.connectTimeoutMs,
    bindTimeoutMs: o.bindTimeoutMs,
    responseTimeoutMs: o.responseTimeoutMs,
    windowSize: o.windowSize,
    windowWaitTimeoutMs: o.windowWaitTimeoutMs,
    unbindTimeoutMs: o.unbindTimeoutMs,
    rttWindowSize: o.rttWindowSize,
    reconnect: { ...o.reconnect },
  };
}
