/**
 * Everything one configured bind needs, with the defaults an operator gets when a
 * key is left out. The config layer validates a file into this shape; the
 * supervisor consumes it. Durations end in their unit.
 */
export type BindType = 'transmitter' | 'receiver' | 'transceiver';

/** setTimeout's upper bound: a longer delay fires at once (Node prints TimeoutOverflowWarning). */
export const MAX_TIMER_MS = 2_147_483_647;

/** Bind ids appear in URLs (`/binds/:id`), so they are restricted to URL-safe characters. */
export const BIND_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface TlsOptions {
  enabled: boolean;
  /** PEM file paths (the config layer reads them) or PEM text. */
  ca?: string;
  cert?: string;
  key?: string;
  servername?: string;
  rejectUnauthorized: boolean;
}

export interface ReconnectOptions {
  initialDelayMs: number;
  maxDelayMs: number;
  /** A bind that stayed bound this long resets the backoff to its initial delay. */
  stableAfterMs: number;
}

/** Keepalive, timeouts, window and health thresholds: settable per bind, inherited from `defaults`. */
export interface BindTuning {
  enquireLinkIntervalMs: number;
  enquireLinkTimeoutMs: number;
  maxMissedProbes: number;
  /** Nothing received for this long means the peer is dead (0 = off). */
  inactivityTimeoutMs: number;
  degradedLatencyMs: number;
  minProbeIntervalMs: number;
  connectTimeoutMs: number;
  bindTimeoutMs: number;
  responseTimeoutMs: number;
  windowSize: number;
  windowWaitTimeoutMs: number;
  unbindTimeoutMs: number;
  /** How many recent probe RTTs the statistics are computed over. */
  rttWindowSize: number;
  /** Unsent output above this stops reading from the SMSC until it drains (bytes). */
  writeHighWaterMarkBytes: number;
  /** Output above the high-water mark this long closes the connection (write_stalled); default responseTimeoutMs. */
  writeStallTimeoutMs?: number;
  /** A PDU begun and not complete after this long closes the connection (frame_stalled); default responseTimeoutMs. */
  frameTimeoutMs?: number;
  reconnect: ReconnectOptions;
  /**
   * The command_status answering a deliver_sm/data_sm that could not be stored (store failing,
   * closed, too slow): a temporary error, so the SMSC redelivers. Default ESME_RSYSERR; some SMSCs
   * treat ESME_RX_T_APPN as final, others want it.
   */
  inboundErrorStatus?: number;
  /** PDUs the bind's trace keeps, both directions (GET /binds/:id/trace; 0 = off; default 200). */
  traceSize?: number;
  /** Bytes the bind's trace may take at most (default 65536); the oldest PDUs go first. */
  traceMaxBytes?: number;
}

export interface BindOptions extends BindTuning {
  id: string;
  host: string;
  port: number;
  tls: TlsOptions;
  systemId: string;
  password: string;
  systemType: string;
  bindType: BindType;
  interfaceVersion: number;
  addrTon: number;
  addrNpi: number;
  addressRange: string;
}

export const DEFAULT_BIND_TUNING: BindTuning = {
  enquireLinkIntervalMs: 30_000,
  enquireLinkTimeoutMs: 10_000,
  maxMissedProbes: 2,
  inactivityTimeoutMs: 0,
  degradedLatencyMs: 1_000,
  minProbeIntervalMs: 1_000,
  connectTimeoutMs: 10_000,
  bindTimeoutMs: 10_000,
  responseTimeoutMs: 30_000,
  windowSize: 10,
  windowWaitTimeoutMs: 30_000,
  unbindTimeoutMs: 5_000,
  rttWindowSize: 256,
  writeHighWaterMarkBytes: 1024 * 1024,
  reconnect: { initialDelayMs: 1_000, maxDelayMs: 60_000, stableAfterMs: 60_000 },
  traceSize: 200,
  traceMaxBytes: 64 * 1024,
};

export const DEFAULT_TLS: TlsOptions = { enabled: false, rejectUnauthorized: true };

/** Fills in every optional key of a bind from the defaults. */
export function withBindDefaults(
  bind: Pick<BindOptions, 'id' | 'host' | 'port' | 'systemId' | 'password'> & Partial<BindOptions>,
  tuning: BindTuning = DEFAULT_BIND_TUNING,
): BindOptions {
  return {
    ...tuning,
    systemType: '',
    bindType: 'transceiver',
    interfaceVersion: 0x34,
    addrTon: 0,
    addrNpi: 0,
    addressRange: '',
    tls: { ...DEFAULT_TLS },
    ...bind,
    reconnect: { ...tuning.reconnect, ...bind.reconnect },
  };
}
