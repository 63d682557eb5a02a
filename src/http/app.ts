/**
 * The HTTP API as a fastify instance: what operators curl, Kubernetes probes and Prometheus
 * scrapes. buildApp() wires the plugins and routes and returns the instance ready to listen;
 * src/cli/serve.ts listens and closes it.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, LogController } from 'fastify';
import pino from 'pino';
import type { Metric } from 'prom-client';
import type { BindOptions } from '../binds/bind-options.js';
import type { BindRegistry } from '../binds/registry.js';
import type { MessagePath } from '../bridge/ports.js';
import type { WebhookDeliveryControl } from '../webhooks/delivery.js';
import { SinceTracker, safeBindConfig } from './bind-views.js';
import type { App, BindAdmin, HttpAppConfig, HttpServerLimits, RouteContext } from './context.js';
import { LoopMonitor } from './loop-monitor.js';
import { installAccessLog } from './plugins/access-log.js';
import { installAuth } from './plugins/auth.js';
import {
  clientErrorHandler,
  frameworkErrorHandler,
  installErrorHandling,
  requireHost,
} from './plugins/error-handler.js';
import { installMetrics } from './plugins/metrics.js';
import { installSwagger } from './plugins/swagger.js';
import { lazyChildLoggerFactory } from './request-logger.js';
import { registerBindAdminRoutes } from './routes/bind-admin.js';
import { registerBindRoutes } from './routes/binds.js';
import { registerEventRoutes } from './routes/events.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerInboundRoutes } from './routes/inbound.js';
import { registerMessageStatsRoute } from './routes/message-stats.js';
import { type MessageRouteOptions, registerMessageRoutes } from './routes/messages.js';
import { registerOpsRoutes } from './routes/ops.js';
import { registerTraceRoutes } from './routes/trace.js';
import { registerUiRoutes } from './routes/ui.js';
import { registerWebhookRoutes } from './routes/webhooks.js';
import {
  BindConfigSchema,
  BindDetailSchema,
  BindHealthSchema,
  BindListSchema,
  BindSummarySchema,
  HealthCheckSchema,
  ProbeResultSchema,
  RebindAcceptedSchema,
} from './schemas/bind.js';
import { ApiBindSchema, BindInputSchema, BindPatchSchema } from './schemas/bind-admin.js';
import { ErrorSchema } from './schemas/common.js';
import { MESSAGE_SCHEMAS } from './schemas/messages.js';
import { LivenessSchema, ReadinessSchema, SnapshotSchema, TransitionSchema } from './schemas/ops.js';
import { AJV_OPTIONS, installQueryNumberGuard } from './validation.js';
import { packageVersion } from './version.js';

export type { App, BindAdmin, BindAdminEntry, HttpAppConfig, HttpServerLimits } from './context.js';

/** What a client may take: the same values as config `http.*`'s defaults. */
export const DEFAULT_SERVER_LIMITS: HttpServerLimits = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1_024,
};

/**
 * The node:http server under fastify, with every limit that keeps a slow or greedy client from
 * holding the process: the whole request (headers and body) within requestTimeoutMs, the headers
 * within headersTimeoutMs (node answers 408 and closes), idle keep-alive connections closed after
 * keepAliveTimeoutMs, and at most maxConnections sockets (further ones are closed at once).
 * Node checks the two request timeouts on an interval (30 s by default, so a 30 s timeout could
 * take a minute); it is made a fraction of the shorter timeout here.
 */
export function createLimitedServer(limits: HttpServerLimits, handler: RequestListener): Server {
  const shortestMs = Math.min(limits.requestTimeoutMs, limits.headersTimeoutMs);
  const server = createServer(
    {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // A request without Host is answered by the requireHost hook, in the one error shape.
      requireHostHeader: false,
      connectionsCheckingInterval: Math.max(25, Math.min(1_000, Math.floor(shortestMs / 4))),
    },
    handler,
  );
  server.maxConnections = limits.maxConnections;
  return server;
}

export interface BuildAppDeps {
  registry: BindRegistry;
  config: HttpAppConfig;
  /** pino logger (src/cli/serve.ts sets its redact paths); none = silent. */
  logger?: FastifyBaseLogger;
  /** Turns a bind's options into what GET /binds/:id shows; the response schema keeps only safe keys anyway. */
  redactBind?: (options: BindOptions) => object;
  /** Shown in the OpenAPI document's info.version (default: package.json's version). */
  version?: string;
  /** /livez fails when the event loop stalled longer than this (default 5000 ms). */
  maxEventLoopDelayMs?: number;
  /** How long one event-loop measuring window lasts (default 10000 ms). */
  loopWindowMs?: number;
  /** Interval of the SSE heartbeat comment (default 15000 ms). */
  sseHeartbeatMs?: number;
  /** Headers not complete within this get 408 REQUEST_TIMEOUT (overrides config http.headersTimeoutMs). */
  headersTimeoutMs?: number;
  /** The message path (store, outbound engine, routes); without it the message routes answer 503. */
  messagePath?: MessagePath;
  /**
   * The message routes' options: the callback URL policy (default: public addresses only), the queue
   * bound (default config `outbound.maxQueuedParts`, else DEFAULT_MAX_QUEUED_PARTS), the clock.
   */
  messages?: MessageRouteOptions;
  /** The webhook sender (its endpoints, its metrics, a wake-up after a retry); without it /webhooks/endpoints answers 503. */
  webhooks?: WebhookDeliveryControl;
  /** Bind management (POST/PUT/PATCH/DELETE /binds); without it those routes answer 503 BINDS_UNAVAILABLE. */
  bindAdmin?: BindAdmin;
  /** The inbound handler's metrics (smpp_inbound_*), registered on /metrics. */
  inboundMetrics?: readonly Metric[];
}

const SHARED_SCHEMAS = [
  ErrorSchema,
  BindSummarySchema,
  BindListSchema,
  HealthCheckSchema,
  BindHealthSchema,
  BindConfigSchema,
  BindDetailSchema,
  ProbeResultSchema,
  RebindAcceptedSchema,
  ApiBindSchema,
  BindInputSchema,
  BindPatchSchema,
  ReadinessSchema,
  LivenessSchema,
  TransitionSchema,
  SnapshotSchema,
  ...MESSAGE_SCHEMAS,
];

export async function buildApp(deps: BuildAppDeps): Promise<App> {
  const { registry, config } = deps;
  const logger = deps.logger ?? (pino({ level: 'silent' }) as FastifyBaseLogger);
  const bodyLimitBytes = config.http.bodyLimitBytes;
  const limits: HttpServerLimits = { ...DEFAULT_SERVER_LIMITS };
  for (const key of Object.keys(limits) as (keyof HttpServerLimits)[]) {
    const value = config.http[key];
    if (value !== undefined) limits[key] = value;
  }
  if (deps.headersTimeoutMs !== undefined) limits.headersTimeoutMs = deps.headersTimeoutMs;

  const app: App = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLoggerFactory,
    ajv: AJV_OPTIONS,
    bodyLimit: bodyLimitBytes,
    serverFactory: (handler) => createLimitedServer(limits, handler),
    // On close, idle keep-alive connections close at once; closeApp() cuts the busy ones after a grace.
    forceCloseConnections: 'idle',
    // Ids up to this long reach the schema, which answers VALIDATION_FAILED past 128 characters.
    routerOptions: { maxParamLength: 512 },
    // fastify's own 503 while closing has a body of another shape; serve fails readiness first instead.
    return503OnClosing: false,
    frameworkErrors: frameworkErrorHandler(bodyLimitBytes),
    // Parser errors (431, 408, 400) in the one error shape; a missing Host is checked by requireHost.
    clientErrorHandler,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.addHook('onRequest', requireHost);

  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);

  // JSON only: text/plain bodies get 415, and an empty JSON body counts as no body.
  app.removeContentTypeParser('text/plain');
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') done(null, undefined);
    else parseJson(request, body as string, done);
  });

  const authorize = installAuth(app, config.auth, logger);
  installErrorHandling(app, bodyLimitBytes, authorize);
  installQueryNumberGuard(app);
  installAccessLog(app);
  await installSwagger(app, deps.version ?? packageVersion());

  const since = new SinceTracker(registry);
  const loop = new LoopMonitor(deps.loopWindowMs ?? 10_000);
  app.addHook('onClose', async () => {
    since.close();
    loop.close();
  });
  const ctx: RouteContext = {
    registry,
    config,
    since,
    loop,
    maxEventLoopDelayMs: deps.maxEventLoopDelayMs ?? 5_000,
    sseHeartbeatMs: deps.sseHeartbeatMs ?? 15_000,
    redactBind: deps.redactBind ?? safeBindConfig,
    startedAt: performance.now(),
    messagePath: deps.messagePath ?? null,
    webhooks: deps.webhooks ?? null,
    bindAdmin: deps.bindAdmin ?? null,
  };
  registerBindRoutes(app, ctx);
  registerBindAdminRoutes(app, ctx);
  registerHealthRoutes(app, ctx);
  registerOpsRoutes(app, ctx);
  registerEventRoutes(app, ctx);
  registerInboundRoutes(app, ctx);
  const maxQueuedParts = config.outbound?.maxQueuedParts;
  registerMessageRoutes(app, ctx, {
    ...(maxQueuedParts === undefined ? {} : { maxQueuedParts }),
    ...deps.messages,
  });
  registerMessageStatsRoute(app, ctx);
  registerWebhookRoutes(app, ctx);
  registerTraceRoutes(app, ctx);
  registerUiRoutes(app);
  if (config.metrics.enabled) {
    const metrics = installMetrics(app, registry, {
      perBindHistograms: config.metrics.perBindHistograms === true,
      ...(deps.messagePath ? { messagePath: deps.messagePath } : {}),
    });
    // A bind removed from the registry takes its label series with it.
    const onRemoved = ({ bindId }: { bindId: string }): void => metrics.forgetBind(bindId);
    for (const metric of deps.webhooks?.metrics ?? []) metrics.register.registerMetric(metric);
    for (const metric of deps.inboundMetrics ?? []) metrics.register.registerMetric(metric);
    registry.on('removed', onRemoved);
    app.addHook('onClose', async () => {
      registry.off('removed', onRemoved);
    });
  }

  await app.ready();
  return app;
}

/**
 * Closes the app for shutdown: the listener stops accepting and idle keep-alive connections close
 * at once; requests in flight (SSE streams are ended by their own preClose hook) get
 * `drainTimeoutMs` to finish, then every connection still open is cut. Resolves when the server
 * is closed; `cut` tells whether any connection had to be cut.
 */
export async function closeApp(app: App, drainTimeoutMs: number): Promise<{ cut: boolean }> {
  let cut = false;
  const timer = setTimeout(() => {
    cut = true;
    app.server.closeAllConnections();
  }, drainTimeoutMs);
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
  }
  return { cut };
}
