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
}
