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

  close(): void {
    this.registry.off('transition', this.onTransition);
    this.registry.off('removed', this.onRemoved);
  }
}

export function bindSummary(bind: BindSupervisor, since: SinceTracker): BindSummary {
  const verdict = bind.refreshHealth();
  return {
    id: bind.id,
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
