/**
 * Keepalive decisions as a pure function of (state, now), kept apart as two questions
 * (style habit 8): "idle, so send an enquire_link" and "nothing received for too long, so
 * the peer is dead". Whether a sent probe was answered in time is the probe's own response
 * timeout; the session counts the misses.
 */
export interface KeepaliveConfig {
  /** Send enquire_link after this long without a received PDU or a probe (0 = never). */
  enquireLinkIntervalMs: number;
  /** Nothing received for this long: the peer is dead (0 = off). */
  inactivityTimeoutMs: number;
}

export interface KeepaliveState {
  /** When the last byte arrived from the peer (ms, session clock). */
  lastRxAt: number;
  /** When the last probe was sent, or -Infinity. */
  lastProbeAt: number;
  probeInFlight: boolean;
}

export type KeepaliveAction = 'none' | 'probe' | 'inactivity_timeout';

export interface KeepaliveDecision {
  action: KeepaliveAction;
  /** When to ask again (ms, session clock), or undefined when nothing is due ever. */
  nextAt: number | undefined;
}

export function keepaliveDecision(
  config: KeepaliveConfig,
  state: KeepaliveState,
  now: number,
): KeepaliveDecision {
  const inactivityAt =
    config.inactivityTimeoutMs > 0 ? state.lastRxAt + config.inactivityTimeoutMs : Number.POSITIVE_INFINITY;
  if (now >= inactivityAt) return { action: 'inactivity_timeout', nextAt: undefined };
  let probeAt = Number.POSITIVE_INFINITY;
  if (config.enquireLinkIntervalMs > 0 && !state.probeInFlight) {
    probeAt = Math.max(state.lastRxAt, state.lastProbeAt) + config.enquireLinkIntervalMs;
    if (now >= probeAt) {
      const after = now + config.enquireLinkIntervalMs;
      return { action: 'probe', nextAt: Math.min(after, inactivityAt) };
    }
  }
  const nextAt = Math.min(probeAt, inactivityAt);
  return { action: 'none', nextAt: Number.isFinite(nextAt) ? nextAt : undefined };
}
