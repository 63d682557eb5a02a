/**
 * The shape of the config file, as TypeBox schemas: what an operator may write, before
 * defaults are filled in and short forms normalised (see resolve-config.ts). Every
 * object rejects unknown keys so a typo fails the start instead of being ignored.
 *
 * A schema may carry `expected`: the wording used in error messages instead of the one
 * derived from its type and bounds (see schema-issues.ts).
 */
import { type Static, type TSchema, Type } from 'typebox';
import {
  BIND_ID_PATTERN,
  type BindTuning,
  MAX_TIMER_MS,
  type ReconnectOptions,
} from '../binds/bind-options.js';
import { COMMAND_STATUS_TABLE } from '../protocol/command-status.js';
import { InterfaceVersion } from '../protocol/constants.js';
import { bindField, SimAccountSchema } from '../simulator/accounts.js';
import { POSTGRES_URL_PATTERN } from '../store/postgres-url.js';
import { WebhooksSchema } from '../webhooks/config.js';

const strict = { additionalProperties: false } as const;

// Defined with the bind options, which the registry checks too.
export { BIND_ID_PATTERN, MAX_TIMER_MS };

export const STORE_SYNCHRONOUS_MODES = ['full', 'normal'] as const;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const READINESS_POLICIES = ['all', 'any', 'quorum', 'atLeast'] as const;
export type ReadinessPolicy = (typeof READINESS_POLICIES)[number];

/** Long forms and the short forms operators also write. */
export const BIND_TYPE_NAMES = {
  transmitter: 'transmitter',
  receiver: 'receiver',
  transceiver: 'transceiver',
  tx: 'transmitter',
  rx: 'receiver',
  trx: 'transceiver',
} as const;

/**
 * Spellings of interface_version (reference §4.11). `3.4` and `5` are what YAML makes of
 * unquoted `3.4` and `5.0`.
 */
export const INTERFACE_VERSION_SPELLINGS: ReadonlyMap<number | string, number> = new Map<
  number | string,
  number
>([
  [InterfaceVersion.v34, InterfaceVersion.v34],
  ['3.4', InterfaceVersion.v34],
  [3.4, InterfaceVersion.v34],
  [InterfaceVersion.v50, InterfaceVersion.v50],
  ['5.0', InterfaceVersion.v50],
  [5, InterfaceVersion.v50],
]);

/** Bearer tokens travel in an Authorization header: token68 characters only (RFC 7235). */
export const TOKEN68 = /^[A-Za-z0-9._~+/-]+=*$/;

function durationMs(minimum: number) {
  return Type.Integer({
    minimum,
    maximum: MAX_TIMER_MS,
    expected: `a whole number of milliseconds from ${minimum} to ${MAX_TIMER_MS}`,
  });
}

function listenPort() {
  return Type.Integer({
    minimum: 0,
    maximum: 65535,
    expected: 'a port number from 0 to 65535 (0 = any free port)',
  });
}

const reconnectProperties = {
  initialDelayMs: durationMs(1),
  maxDelayMs: durationMs(1),
  stableAfterMs: durationMs(0),
} satisfies Record<keyof ReconnectOptions, TSchema>;

export const ReconnectSchema = Type.Object(
  {
    initialDelayMs: Type.Optional(reconnectProperties.initialDelayMs),
    maxDelayMs: Type.Optional(reconnectProperties.maxDelayMs),
    stableAfterMs: Type.Optional(reconnectProperties.stableAfterMs),
  },
  strict,
);

/** The temporary command_status names (the SMSC retries them), for `inboundErrorStatus`. */
export const TEMPORARY_STATUS_NAMES: readonly string[] = COMMAND_STATUS_TABLE.filter(
  (row) => row.retryClass === 'retry',
).map((row) => row.name);

const inboundErrorStatus = Type.Union(
  [
    ...TEMPORARY_STATUS_NAMES.map((name) => Type.Literal(name)),
    Type.Integer({ minimum: 1, maximum: 0xffffffff }),
  ],
  {
    expected: `a temporary command_status: ${TEMPORARY_STATUS_NAMES.join(', ')}, or a vendor code as a number`,
  },
);

/** Every BindTuning key, optional: both `defaults` and each bind may set any of them. */
const tuningProperties = {
  enquireLinkIntervalMs: Type.Optional(durationMs(1000)),
  enquireLinkTimeoutMs: Type.Optional(durationMs(1)),
  maxMissedProbes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  inactivityTimeoutMs: Type.Optional(durationMs(0)),
  degradedLatencyMs: Type.Optional(durationMs(1)),
  minProbeIntervalMs: Type.Optional(durationMs(0)),
  connectTimeoutMs: Type.Optional(durationMs(1)),
  bindTimeoutMs: Type.Optional(durationMs(1)),
  responseTimeoutMs: Type.Optional(durationMs(1)),
  windowSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  windowWaitTimeoutMs: Type.Optional(durationMs(1)),
  unbindTimeoutMs: Type.Optional(durationMs(1)),
  rttWindowSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 65536 })),
  writeHighWaterMarkBytes: Type.Optional(Type.Integer({ minimum: 1024, maximum: 1024 * 1024 * 1024 })),
  writeStallTimeoutMs: Type.Optional(durationMs(1)),
  frameTimeoutMs: Type.Optional(durationMs(1)),
  inboundErrorStatus: Type.Optional(inboundErrorStatus),
  reconnect: Type.Optional(ReconnectSchema),
  traceSize: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
  traceMaxBytes: Type.Optional(Type.Integer({ minimum: 1024, maximum: 64 * 1024 * 1024 })),
} satisfies Record<keyof BindTuning, TSchema>;

export const TuningSchema = Type.Object(tuningProperties, strict);

export const TlsSchema = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    ca: Type.Optional(Type.String({ minLength: 1, expected: 'a file path' })),
    cert: Type.Optional(Type.String({ minLength: 1, expected: 'a file path' })),
    key: Type.Optional(Type.String({ minLength: 1, expected: 'a file path' })),
    servername: Type.Optional(Type.String({ minLength: 1 })),
    rejectUnauthorized: Type.Optional(Type.Boolean()),
  },
  strict,
);

export const BindSchema = Type.Object(
  {
    id: Type.String({
      pattern: BIND_ID_PATTERN.source,
      expected: "an id of 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit",
    }),
    host: Type.String({ pattern: '^\\S+$', expected: 'a host name or IP address' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, expected: 'a port number from 1 to 65535' }),
    tls: Type.Optional(
      Type.Union([Type.Boolean(), TlsSchema], { expected: 'true, false or a mapping of TLS settings' }),
    ),
    systemId: bindField('system_id', 1),
    password: bindField('password'),
    systemType: Type.Optional(bindField('system_type')),
    bindType: Type.Optional(
      Type.Union([
        Type.Literal('transmitter'),
        Type.Literal('receiver'),
        Type.Literal('transceiver'),
        Type.Literal('tx'),
        Type.Literal('rx'),
        Type.Literal('trx'),
      ]),
    ),
    interfaceVersion: Type.Optional(
      Type.Union(
        [
          Type.Literal(InterfaceVersion.v34),
          Type.Literal(InterfaceVersion.v50),
          Type.Literal('3.4'),
          Type.Literal('5.0'),
          Type.Literal(3.4),
          Type.Literal(5),
        ],
        { expected: "0x34 (52) or '3.4' for SMPP 3.4, 0x50 (80) or '5.0' for SMPP 5.0" },
      ),
    ),
    addrTon: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
    addrNpi: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
    addressRange: Type.Optional(bindField('address_range')),
    ...tuningProperties,
  },
  strict,
);
export type BindInput = Static<typeof BindSchema>;

export const ROUTE_STRATEGY_NAMES = ['round_robin', 'least_outstanding', 'failover'] as const;
export const ID_FORMAT_NAMES = ['string', 'hexSubmitDecReceipt', 'decSubmitHexReceipt'] as const;

/** One `routes:` entry (src/bridge/routing.ts); bind ids are checked against `binds` in config-rules.ts. */
export const RouteSchema = Type.Object(
  {
    id: Type.String({ pattern: BIND_ID_PATTERN.source, expected: 'a route id (letters, digits, . _ -)' }),
    binds: Type.Array(Type.String({ minLength: 1, expected: 'a bind id' }), { minItems: 1 }),
    prefixes: Type.Optional(
      Type.Array(
        Type.String({ pattern: '^\\+?[0-9]{1,20}$', expected: 'digits, with an optional leading +' }),
      ),
    ),
    strategy: Type.Optional(Type.Union(ROUTE_STRATEGY_NAMES.map((name) => Type.Literal(name)))),
    tps: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000, expected: 'PDUs per second, above 0' }),
    ),
    idFormat: Type.Optional(Type.Union(ID_FORMAT_NAMES.map((name) => Type.Literal(name)))),
    resubmitOnTimeout: Type.Optional(Type.Boolean()),
  },
  strict,
);
export type RouteInput = Static<typeof RouteSchema>;

/** The outbound engine's knobs (src/bridge/outbound/options.ts has the defaults). */
export const OutboundSchema = Type.Object(
  {
    maxQueuedParts: Type.Optional(Type.Integer({ minimum: 1 })),
    claimBatch: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    visibilityTimeoutMs: Type.Optional(durationMs(1_000)),
    pollIntervalMs: Type.Optional(durationMs(10)),
    validitySweepIntervalMs: Type.Optional(durationMs(100)),
    leaseTtlMs: Type.Optional(durationMs(1_000)),
    retry: Type.Optional(
      Type.Object(
        {
          maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
          retryInitialDelayMs: Type.Optional(durationMs(0)),
          retryMaxDelayMs: Type.Optional(durationMs(0)),
          throttleInitialPauseMs: Type.Optional(durationMs(0)),
          throttleMaxPauseMs: Type.Optional(durationMs(0)),
        },
        strict,
      ),
    ),
  },
  strict,
);

/** The whole file. Every section is optional; `binds` may be empty. */
export const ConfigFileSchema = Type.Object(
  {
    http: Type.Optional(
      Type.Object(
        {
          host: Type.Optional(Type.String({ pattern: '^\\S+$', expected: 'a host name or IP address' })),
          port: Type.Optional(listenPort()),
          bodyLimitBytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1 << 30 })),
          requestTimeoutMs: Type.Optional(durationMs(100)),
          headersTimeoutMs: Type.Optional(durationMs(100)),
          keepAliveTimeoutMs: Type.Optional(durationMs(0)),
          maxConnections: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
        },
        strict,
      ),
    ),
    log: Type.Optional(
      Type.Object(
        { level: Type.Optional(Type.Union(LOG_LEVELS.map((level) => Type.Literal(level)))) },
        strict,
      ),
    ),
    auth: Type.Optional(
      Type.Object(
        {
          tokens: Type.Optional(
            Type.Array(
              Type.String({
                pattern: TOKEN68.source,
                expected: "a bearer token (letters, digits and '-._~+/', optionally ending in '=')",
              }),
            ),
          ),
          protectReads: Type.Optional(Type.Boolean()),
        },
        strict,
      ),
    ),
    readiness: Type.Optional(
      Type.Object(
        {
          policy: Type.Optional(Type.Union(READINESS_POLICIES.map((policy) => Type.Literal(policy)))),
          minHealthy: Type.Optional(Type.Integer({ minimum: 1 })),
        },
        strict,
      ),
    ),
    shutdown: Type.Optional(
      Type.Object(
        { unbindTimeoutMs: Type.Optional(durationMs(0)), httpDrainTimeoutMs: Type.Optional(durationMs(0)) },
        strict,
      ),
    ),
    metrics: Type.Optional(
      Type.Object(
        { enabled: Type.Optional(Type.Boolean()), perBindHistograms: Type.Optional(Type.Boolean()) },
        strict,
      ),
    ),
    store: Type.Optional(
      Type.Object(
        {
          path: Type.Optional(Type.String({ minLength: 1, expected: 'a file path' })),
          // Set: the PostgreSQL store (several replicas); unset: SQLite at `path` (one replica).
          url: Type.Optional(
            Type.String({
              pattern: POSTGRES_URL_PATTERN,
              expected: 'a PostgreSQL URL (postgres://user:password@host:port/database)',
            }),
          ),
          synchronous: Type.Optional(Type.Union(STORE_SYNCHRONOUS_MODES.map((mode) => Type.Literal(mode)))),
          retentionDays: Type.Optional(
            Type.Integer({ minimum: 1, maximum: 3650, expected: 'a whole number of days from 1 to 3650' }),
          ),
        },
        strict,
      ),
    ),
    // Bind ownership by leases: which replica runs each bind (src/bridge/ownership).
    leases: Type.Optional(
      Type.Object(
        {
          ttlMs: Type.Optional(durationMs(1_000)),
          renewIntervalMs: Type.Optional(durationMs(100)),
          owner: Type.Optional(
            Type.String({ minLength: 1, maxLength: 200, expected: "this replica's name, e.g. the pod name" }),
          ),
        },
        strict,
      ),
    ),
    mo: Type.Optional(
      Type.Object(
        {
          reassemblyTimeoutMs: Type.Optional(durationMs(1000)),
          dedupWindowMs: Type.Optional(durationMs(0)),
        },
        strict,
      ),
    ),
    defaults: Type.Optional(TuningSchema),
    binds: Type.Optional(Type.Array(BindSchema)),
    routes: Type.Optional(Type.Array(RouteSchema)),
    outbound: Type.Optional(OutboundSchema),
    webhooks: Type.Optional(WebhooksSchema),
    simulator: Type.Optional(
      Type.Object(
        {
          // Required: writing the section is not by itself a decision to run a fake SMSC.
          enabled: Type.Boolean(),
          host: Type.Optional(Type.String({ pattern: '^\\S+$', expected: 'a host name or IP address' })),
          port: Type.Optional(listenPort()),
          // The simulator's own account schema: `serve` and `simulator` take the same accounts.
          accounts: Type.Optional(Type.Array(SimAccountSchema)),
        },
        strict,
      ),
    ),
  },
  strict,
);
export type ConfigFileInput = Static<typeof ConfigFileSchema>;
