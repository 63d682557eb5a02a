/**
 * Keepalive decisions as a pure function of (state, now), kept apart as two questions
 * (style habit 8): "idle, so send an enquire_link" and "nothing received for too long, so
 * the peer is dead". Whether a sent probe was answered in time is the probe's own response
 * timeout; the session counts the misses.
 *
 * Idle means no whole PDU received: bytes that never complete a PDU prove nothing (a peer
 * dripping one byte a second must not keep the link "alive"); the session closes a PDU that
 * does not complete within its frame timeout.
 */
export interface KeepaliveConfig {
  /** Send enquire_link after this long without a received PDU or a probe (0 = never). */
  enquireLinkIntervalMs: number;
  /** No whole PDU received for this long: the peer is dead (0 = off). */
  inactivityTimeoutMs: number;
}

export interface KeepaliveState {
  /** When the last whole PDU arrived from the peer (ms, session clock). */
  lastRxAt: number;
  /** When the last probe was sent, or -Infinity. */
  lastProbeAt: number;
  probeInFlight: boolean;
  /**
   * Idle time before the next probe: the jittered first delay after bind (firstProbeDelayMs),
   * enquireLinkIntervalMs once a probe went out or a PDU arrived. Default: the interval.
   */
  probeDelayMs?: number;
}

export type KeepaliveAction = 'none' | 'probe' | 'inactivity_timeout';

export interface KeepaliveDecision {
  action: KeepaliveAction;
  /** When to ask again (ms, session clock), or undefined when nothing is due ever. */
  nextAt: number | undefined;
  /** When the next probe is due (Infinity: none, or one is in flight). */
  probeAt: number;
  /** When the inactivity timeout falls (Infinity: off). */
  inactivityAt: number;
}

/**
 * The first keepalive delay after a bind: uniform in [interval/2, interval]. Binds bound in the
 * same second then do not all probe in the same millisecond; the spacing afterwards is the
 * interval. Never longer than the interval, so the detection bound still holds.
 */
export function firstProbeDelayMs(intervalMs: number, random: () => number): number {
  const r = Math.min(1, Math.max(0, random()));
  return intervalMs / 2 + (r * intervalMs) / 2;
}

export function keepaliveDecision(
  config: KeepaliveConfig,
  state: KeepaliveState,
  now: number,
): KeepaliveDecision {
  const inactivityAt =
    config.inactivityTimeoutMs > 0 ? state.lastRxAt + config.inactivityTimeoutMs : Number.POSITIVE_INFINITY;
  if (now >= inactivityAt) {
    return {
      action: 'inactivity_timeout',
      nextAt: undefined,
      probeAt: Number.POSITIVE_INFINITY,
      inactivityAt,
    };
  }
  let probeAt = Number.POSITIVE_INFINITY;
  if (config.enquireLinkIntervalMs > 0 && !state.probeInFlight) {
    const delayMs = state.probeDelayMs ?? config.enquireLinkIntervalMs;
    probeAt = Math.max(state.lastRxAt, state.lastProbeAt) + delayMs;
    if (now >= probeAt) {
      const after = now + config.enquireLinkIntervalMs;
      return { action: 'probe', nextAt: Math.min(after, inactivityAt), probeAt: after, inactivityAt };
    }
  }
  const nextAt = Math.min(probeAt, inactivityAt);
  return { action: 'none', nextAt: Number.isFinite(nextAt) ? nextAt : undefined, probeAt, inactivityAt };
}
