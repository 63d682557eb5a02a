/** Example bodies for the OpenAPI document, shared by the schemas and the route responses. */
const SINCE = '2025-01-01T12:00:00.000Z';

export const EXAMPLE_SUMMARY_HEALTHY = {
  id: 'main',
  owner: 'smpp-bridge-7d9f8-x2k4q',
  status: 'healthy',
  code: 'OK',
  reason: 'bound and answering enquire_link',
  state: 'bound',
  lastRttMs: 0.41,
  since: SINCE,
};

export const EXAMPLE_SUMMARY_BACKOFF = {
  id: 'backup',
  owner: 'smpp-bridge-7d9f8-x2k4q',
  status: 'unhealthy',
  code: 'NOT_BOUND',
  reason: 'connect ECONNREFUSED 10.0.0.7:2775; reconnecting in 4.2 s',
  state: 'backoff',
  lastRttMs: null,
  since: SINCE,
};

export const EXAMPLE_CHECK_PASSING = {
  id: 'main',
  status: 'healthy',
  code: 'OK',
  reason: 'bound and answering enquire_link',
  since: SINCE,
  state: 'bound',
  lastRttMs: 0.41,
  aliveAgeMs: 1200,
  passing: true,
  failedCheck: null,
  failedReason: null,
};

export const EXAMPLE_CHECK_UNHEALTHY = {
  id: 'backup',
  status: 'unhealthy',
  code: 'NOT_BOUND',
  reason: 'connect ECONNREFUSED 10.0.0.7:2775; reconnecting in 4.2 s',
  since: SINCE,
  state: 'backoff',
  lastRttMs: null,
  aliveAgeMs: null,
  passing: false,
  failedCheck: 'status',
  failedReason: 'unhealthy: connect ECONNREFUSED 10.0.0.7:2775; reconnecting in 4.2 s',
};

export const EXAMPLE_CHECK_TOO_OLD = {
  ...EXAMPLE_CHECK_PASSING,
  aliveAgeMs: 31200,
  passing: false,
  failedCheck: 'maxAgeMs',
  failedReason: 'last proof of life 31200 ms ago > maxAgeMs 30000',
};

export const EXAMPLE_CONFIG = {
  id: 'main',
  host: 'smsc.example.net',
  port: 2775,
  bindType: 'transceiver',
  systemId: 'acme',
  systemType: '',
  interfaceVersion: 52,
  addrTon: 0,
  addrNpi: 0,
  addressRange: '',
  tls: { enabled: false, rejectUnauthorized: true, customCa: false, clientCertificate: false },
  enquireLinkIntervalMs: 30000,
  enquireLinkTimeoutMs: 10000,
  maxMissedProbes: 2,
  inactivityTimeoutMs: 0,
  degradedLatencyMs: 1000,
  minProbeIntervalMs: 1000,
  connectTimeoutMs: 10000,
  bindTimeoutMs: 10000,
  responseTimeoutMs: 30000,
  windowSize: 10,
  windowWaitTimeoutMs: 30000,
  unbindTimeoutMs: 5000,
  rttWindowSize: 256,
  reconnect: { initialDelayMs: 1000, maxDelayMs: 60000, stableAfterMs: 60000 },
};

export const EXAMPLE_HEALTH = {
  id: 'main',
  status: 'healthy',
  code: 'OK',
  reason: 'bound and answering enquire_link',
  since: SINCE,
  state: 'bound',
  sessionState: 'bound_trx',
  bindType: 'transceiver',
  remoteAddress: 'smsc.example.net:2775',
  lastProbe: {
    at: '2025-01-01T12:30:00.000Z',
    ok: true,
    rttMs: 0.41,
    trigger: 'keepalive',
    sequenceNumber: 61,
    error: null,
  },
  rtt: { count: 60, min: 0.29, mean: 0.44, p50: 0.41, p90: 0.58, p99: 1.2, max: 1.31 },
  consecutiveFailures: 0,
  counters: {
    probesSent: 60,
    probesFailed: 0,
    reconnects: 0,
    binds: 1,
    bindFailures: 0,
    pdusIn: { bind_transceiver_resp: 1, enquire_link_resp: 60 },
    pdusOut: { bind_transceiver: 1, enquire_link: 60 },
  },
  lastError: null,
  boundAt: SINCE,
  uptimeMs: 1800000,
  window: { used: 0, capacity: 10, waiting: 0 },
  throttled: false,
  reconnect: { attempt: 0, nextAttemptAt: null },
};

export const EXAMPLE_PROBE = { ok: true, rttMs: 0.38, sequenceNumber: 42, commandStatus: 0, at: SINCE };

export const EXAMPLE_REBIND = { id: 'main', accepted: true, state: 'bound' };

export const EXAMPLE_READY = {
  ready: true,
  draining: false,
  policy: 'all',
  strict: false,
  required: 2,
  healthy: 2,
  total: 2,
  binds: [
    { id: 'main', status: 'healthy', reason: 'bound and answering enquire_link' },
    { id: 'backup', status: 'degraded', reason: 'last enquire_link round trip 1250.0 ms > 1000 ms' },
  ],
};

export const EXAMPLE_NOT_READY = {
  ready: false,
  draining: false,
  policy: 'quorum',
  strict: false,
  required: 2,
  healthy: 1,
  total: 3,
  binds: [
    { id: 'main', status: 'healthy', reason: 'bound and answering enquire_link' },
    {
      id: 'backup',
      status: 'unhealthy',
      reason: 'connect ECONNREFUSED 10.0.0.7:2775; reconnecting in 4.2 s',
    },
    { id: 'spare', status: 'stopped', reason: 'the bind is stopped' },
  ],
};

export const EXAMPLE_LIVE = {
  status: 'ok',
  eventLoopDelayMs: { mean: 0.2, p50: 0.1, p99: 1.4, max: 2.9 },
  maxEventLoopDelayMs: 5000,
  uptimeSeconds: 3600.5,
};

export const EXAMPLE_STALLED = {
  status: 'stalled',
  eventLoopDelayMs: { mean: 3.1, p50: 0.1, p99: 7204.2, max: 7204.2 },
  maxEventLoopDelayMs: 5000,
  uptimeSeconds: 3600.5,
};
