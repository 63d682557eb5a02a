/**
 * Schemas of the bind resources: the summary in lists, the cheap health check of the readiness
 * path, the full health model, the (secret-free) configuration, probe results. Each has an $id
 * so the OpenAPI document names it under components.schemas.
 */
import { type Static, Type } from 'typebox';
import type { BindHealth } from '../../binds/bind.js';
import { ErrorCode } from '../../errors.js';
import { Nullable, NullableEnum, StringEnum } from './common.js';
import {
  EXAMPLE_CHECK_PASSING,
  EXAMPLE_CHECK_TOO_OLD,
  EXAMPLE_CONFIG,
  EXAMPLE_HEALTH,
  EXAMPLE_PROBE,
  EXAMPLE_REBIND,
  EXAMPLE_SUMMARY_HEALTHY,
} from './examples.js';

export const HEALTH_STATUSES = ['healthy', 'degraded', 'unhealthy', 'stopped', 'standby'] as const;
export const HEALTH_CODES = [
  'OK',
  'STOPPED',
  'STANDBY',
  'NOT_BOUND',
  'PROBES_MISSED',
  'PROBE_STALE',
  'PROBE_MISSED',
  'OUTPUT_BLOCKED',
  'PROBE_REJECTED',
  'HIGH_LATENCY',
  'THROTTLED',
] as const;
export const RUN_STATES = [
  'idle',
  'connecting',
  'binding',
  'bound',
  'backoff',
  'stopping',
  'stopped',
  'standby',
] as const;
export const PROBE_TRIGGERS = ['keepalive', 'manual', 'external'] as const;
export const HEALTH_CHECKS = ['status', 'strict', 'maxLatencyMs', 'maxAgeMs'] as const;

const id = Type.String({ description: 'The bind id from the configuration.', examples: ['main'] });
const status = StringEnum(HEALTH_STATUSES, {
  description: 'healthy and degraded pass a readiness check (degraded fails with strict=true).',
});
const code = StringEnum(HEALTH_CODES, { description: 'Which health rule decided the status.' });
const reason = Type.String({ description: 'The status in words.' });
const state = StringEnum(RUN_STATES, { description: 'Where the supervisor is in its connect/bind cycle.' });
const since = Type.String({ format: 'date-time', description: 'Since when the status has been what it is.' });
const lastRttMs = Nullable('number', { description: 'Round trip of the last answered enquire_link, in ms.' });

const owner = Nullable('string', {
  description:
    'The replica that runs the bind (bind ownership by leases: `leases.owner`, by default `<hostname>:<pid>`); on the others it is `standby`. Null while no replica holds it.',
});

export const BindSummarySchema = Type.Object(
  { id, owner, status, code, reason, state, lastRttMs, since },
  {
    $id: 'BindSummary',
    title: 'BindSummary',
    additionalProperties: false,
    examples: [EXAMPLE_SUMMARY_HEALTHY],
  },
);
export type BindSummary = Static<typeof BindSummarySchema>;

export const BindListSchema = Type.Object(
  {
    binds: Type.Array(Type.Unsafe<BindSummary>({ $ref: 'BindSummary#' })),
    nextCursor: Nullable('string', {
      description:
        'Pass as `cursor` for the next page; null on the last page. Opaque: it encodes where the page ended, so binds added or removed meanwhile neither repeat nor shift the pages.',
    }),
  },
  { $id: 'BindList', title: 'BindList', additionalProperties: false },
);

export const BIND_LIST_DEFAULT_LIMIT = 100;
export const BIND_LIST_MAX_LIMIT = 1000;
/** One status, or several separated by commas (the parameter may also repeat). */
const STATUS_LIST_PATTERN = `^(${HEALTH_STATUSES.join('|')})(,(${HEALTH_STATUSES.join('|')}))*$`;

export const BindListQuerySchema = Type.Object(
  {
    status: Type.Optional(
      Type.Array(
        Type.String({
          pattern: STATUS_LIST_PATTERN,
          description: `${HEALTH_STATUSES.join(', ')}; several separated by commas.`,
        }),
        {
          description:
            'Only binds with one of these statuses: `?status=unhealthy`, `?status=unhealthy,degraded` or `?status=unhealthy&status=degraded`.',
        },
      ),
    ),
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: BIND_LIST_MAX_LIMIT,
        default: BIND_LIST_DEFAULT_LIMIT,
        description: `Binds per page (a decimal integer, 1 to ${BIND_LIST_MAX_LIMIT}).`,
      }),
    ),
    cursor: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: 'The nextCursor of the previous page; absent for the first page.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type BindListQuery = Static<typeof BindListQuerySchema>;

export const HealthCheckSchema = Type.Object(
  {
    id,
    status,
    code,
    reason,
    since,
    state,
    lastRttMs,
    aliveAgeMs: Nullable('number', {
      description:
        'Ms since the last proof of life (answered probe or any PDU received); null when not bound.',
    }),
    passing: Type.Boolean({
      description: 'Whether this check passed (the HTTP status says the same: 200 or 503).',
    }),
    failedCheck: NullableEnum(HEALTH_CHECKS, {
      description:
        'Which check failed: status (unhealthy or stopped), strict (degraded with strict=true), maxLatencyMs, maxAgeMs.',
    }),
    failedReason: Nullable('string', { description: 'Why that check failed.' }),
    health: Type.Optional(
      Type.Unsafe<BindHealth>({
        $ref: 'BindHealth#',
        description: 'The full health model, with ?detail=true only (also in GET /binds/{id}).',
      }),
    ),
  },
  {
    $id: 'HealthCheck',
    title: 'HealthCheck',
    additionalProperties: false,
    examples: [EXAMPLE_CHECK_PASSING, EXAMPLE_CHECK_TOO_OLD],
  },
);
export type HealthCheck = Static<typeof HealthCheckSchema>;

const counts = Type.Record(Type.String(), Type.Integer({ minimum: 0 }), {
  description: 'PDUs by command name.',
});

export const BindHealthSchema = Type.Object(
  {
    id,
    status,
    code,
    reason,
    since,
    state,
    sessionState: Nullable('string', { description: 'The SMPP session state (reference §3.1), or null.' }),
    bindType: StringEnum(['transmitter', 'receiver', 'transceiver'] as const),
    remoteAddress: Type.String({ examples: ['smsc.example.net:2775'] }),
    lastProbe: Type.Union([
      Type.Object(
        {
          at: Type.String({ format: 'date-time' }),
          ok: Type.Boolean(),
          rttMs: Nullable('number'),
          trigger: StringEnum(PROBE_TRIGGERS),
          sequenceNumber: Nullable('integer'),
          error: Nullable('string'),
        },
        { additionalProperties: false },
      ),
      Type.Null(),
    ]),
    rtt: Type.Object(
      {
        count: Type.Integer({ minimum: 0 }),
        min: Nullable('number'),
        mean: Nullable('number'),
        p50: Nullable('number'),
        p90: Nullable('number'),
        p99: Nullable('number'),
        max: Nullable('number'),
      },
      { additionalProperties: false, description: 'Round trips (ms) of the recent probes.' },
    ),
    consecutiveFailures: Type.Integer({ minimum: 0 }),
    counters: Type.Object(
      {
        probesSent: Type.Integer({ minimum: 0 }),
        probesFailed: Type.Integer({ minimum: 0 }),
        reconnects: Type.Integer({ minimum: 0 }),
        binds: Type.Integer({ minimum: 0 }),
        bindFailures: Type.Integer({ minimum: 0 }),
        pdusIn: counts,
        pdusOut: counts,
      },
      { additionalProperties: false },
    ),
    lastError: Type.Union([
      Type.Object(
        {
          code: StringEnum(Object.values(ErrorCode), {
            description: 'A registered SMPP_ERR_* code (docs/errors.md); never a raw errno.',
          }),
          statusName: Nullable('string'),
          message: Type.String(),
          at: Type.String({ format: 'date-time' }),
          details: Type.Optional(
            Type.Object(
              {
                errno: Type.Optional(Type.String({ description: 'The OS error code, e.g. ECONNREFUSED.' })),
                closeReason: Type.Optional(
                  Type.String({ description: 'Why the session closed, e.g. keepalive_timeout.' }),
                ),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
      Type.Null(),
    ]),
    boundAt: Nullable('string', { format: 'date-time' }),
    uptimeMs: Nullable('integer'),
    window: Type.Object(
      {
        used: Type.Integer({ minimum: 0 }),
        capacity: Type.Integer({ minimum: 0 }),
        waiting: Type.Integer({ minimum: 0 }),
      },
      {
        additionalProperties: false,
        description: 'Requests in flight, the window size, and requests queued.',
      },
    ),
    throttled: Type.Boolean(),
    reconnect: Type.Object(
      { attempt: Type.Integer({ minimum: 0 }), nextAttemptAt: Nullable('string', { format: 'date-time' }) },
      { additionalProperties: false },
    ),
  },
  { $id: 'BindHealth', title: 'BindHealth', additionalProperties: false, examples: [EXAMPLE_HEALTH] },
);

export const BindConfigSchema = Type.Object(
  {
    id: Type.Optional(Type.String()),
    host: Type.Optional(Type.String()),
    port: Type.Optional(Type.Integer()),
    bindType: Type.Optional(Type.String()),
    systemId: Type.Optional(Type.String()),
    systemType: Type.Optional(Type.String()),
    interfaceVersion: Type.Optional(Type.Integer()),
    addrTon: Type.Optional(Type.Integer()),
    addrNpi: Type.Optional(Type.Integer()),
    addressRange: Type.Optional(Type.String()),
    tls: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean()),
          servername: Type.Optional(Type.String()),
          rejectUnauthorized: Type.Optional(Type.Boolean()),
          customCa: Type.Optional(Type.Boolean({ description: 'Whether a CA bundle is configured.' })),
          clientCertificate: Type.Optional(
            Type.Boolean({
              description: 'Whether a client certificate and key are configured (never shown).',
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    enquireLinkIntervalMs: Type.Optional(Type.Integer()),
    enquireLinkTimeoutMs: Type.Optional(Type.Integer()),
    maxMissedProbes: Type.Optional(Type.Integer()),
    inactivityTimeoutMs: Type.Optional(Type.Integer()),
    degradedLatencyMs: Type.Optional(Type.Number()),
    minProbeIntervalMs: Type.Optional(Type.Integer()),
    connectTimeoutMs: Type.Optional(Type.Integer()),
    bindTimeoutMs: Type.Optional(Type.Integer()),
    responseTimeoutMs: Type.Optional(Type.Integer()),
    windowSize: Type.Optional(Type.Integer()),
    windowWaitTimeoutMs: Type.Optional(Type.Integer()),
    unbindTimeoutMs: Type.Optional(Type.Integer()),
    rttWindowSize: Type.Optional(Type.Integer()),
    reconnect: Type.Optional(
      Type.Object(
        {
          initialDelayMs: Type.Optional(Type.Integer()),
          maxDelayMs: Type.Optional(Type.Integer()),
          stableAfterMs: Type.Optional(Type.Integer()),
        },
        { additionalProperties: false },
      ),
    ),
  },
  {
    $id: 'BindConfig',
    title: 'BindConfig',
    description:
      'The configuration of a bind without its secrets: the password and TLS key are never included.',
    additionalProperties: false,
    examples: [EXAMPLE_CONFIG],
  },
);
export type BindConfig = Static<typeof BindConfigSchema>;

export const BindDetailSchema = Type.Object(
  {
    id,
    config: Type.Unsafe<BindConfig>({ $ref: 'BindConfig#' }),
    health: Type.Unsafe<object>({ $ref: 'BindHealth#' }),
  },
  { $id: 'BindDetail', title: 'BindDetail', additionalProperties: false },
);

export const EnquireBodySchema = Type.Object(
  {
    timeoutMs: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 60_000,
        description: "How long to wait for enquire_link_resp (default: the bind's enquireLinkTimeoutMs).",
        examples: [5000],
      }),
    ),
  },
  { additionalProperties: false, examples: [{ timeoutMs: 5000 }] },
);

export const ProbeResultSchema = Type.Object(
  {
    ok: Type.Boolean(),
    rttMs: Type.Number({ description: 'Round trip from enquire_link to enquire_link_resp, in ms.' }),
    sequenceNumber: Type.Integer(),
    commandStatus: Type.Integer({ description: 'command_status of the enquire_link_resp (0 = ESME_ROK).' }),
    at: Type.String({ format: 'date-time', description: 'When the answer arrived.' }),
  },
  {
    $id: 'ProbeResult',
    title: 'ProbeResult',
    additionalProperties: false,
    examples: [EXAMPLE_PROBE],
  },
);
export type ProbeResultBody = Static<typeof ProbeResultSchema>;

export const RebindAcceptedSchema = Type.Object(
  {
    id,
    accepted: Type.Boolean(),
    state,
  },
  {
    $id: 'RebindAccepted',
    title: 'RebindAccepted',
    additionalProperties: false,
    examples: [EXAMPLE_REBIND],
  },
);

export const BindIdParamsSchema = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 128, description: 'The bind id.' }) },
  { additionalProperties: false },
);
