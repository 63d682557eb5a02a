/** What the routes share: the binds, the HTTP slice of the configuration, and the helpers built once per app. */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { BindOptions } from '../binds/bind-options.js';
import type { BindRegistry, ReadinessPolicy } from '../binds/registry.js';
import type { MessagePath } from '../bridge/ports.js';
import type { WebhookDeliveryControl } from '../webhooks/delivery.js';
import type { SinceTracker } from './bind-views.js';
import type { LoopMonitor } from './loop-monitor.js';

/** One bind as the bind management API sees it (src/cli/bind-catalog.ts builds them). */
export interface BindAdminEntry {
  id: string;
  source: 'config' | 'api';
  enabled: boolean;
  /** API binds: the stored definition's version and times (ms). */
  definition?: { version: number; createdAt: number; updatedAt: number };
  options: BindOptions;
}

/**
 * The bind management API's port (serve gives src/cli/bind-catalog.ts): API binds kept in the
 * store, config binds read-only; every write reconciles the registry before it resolves. Errors
 * are SmppErrors (fromSmppError maps them).
 */
export interface BindAdmin {
  /** The store API binds live in; null: writes answer 503 BINDS_UNAVAILABLE. */
  readonly store: object | null;
  get(id: string): Promise<BindAdminEntry | undefined>;
  create(body: Record<string, unknown>): Promise<BindAdminEntry>;
  replace(id: string, body: Record<string, unknown>): Promise<BindAdminEntry>;
  patch(id: string, body: Record<string, unknown>): Promise<BindAdminEntry>;
  remove(id: string): Promise<void>;
}

/** The slice of the service configuration the HTTP layer reads (ServiceConfig satisfies it). */
export interface HttpAppConfig {
  auth: { tokens: string[]; protectReads: boolean };
  readiness: { policy: ReadinessPolicy; minHealthy: number };
  http: { bodyLimitBytes: number } & Partial<HttpServerLimits>;
  metrics: { enabled: boolean; perBindHistograms?: boolean };
  /** The queue bound of POST /messages (config `outbound.maxQueuedParts`), when configured. */
  outbound?: { maxQueuedParts?: number };
}

/** How long clients may take and how many may connect (config `http.*`; defaults in app.ts). */
export interface HttpServerLimits {
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
}

/** The fastify instance with the TypeBox type provider: request parts typed from their schemas. */
export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface RouteContext {
  registry: BindRegistry;
  config: HttpAppConfig;
  since: SinceTracker;
  loop: LoopMonitor;
  maxEventLoopDelayMs: number;
  sseHeartbeatMs: number;
  redactBind: (options: BindOptions) => object;
  startedAt: number;
  /** The message path when it runs (serve), else null. */
  messagePath: MessagePath | null;
  /** The webhook sender when it runs (serve), else null. */
  webhooks: WebhookDeliveryControl | null;
  /** The bind management API's side (serve), else null: its routes answer 503 BINDS_UNAVAILABLE. */
  bindAdmin: BindAdmin | null;
}
