/**
 * The HTTP API as a fastify instance: what operators curl, Kubernetes probes and Prometheus
 * scrapes. buildApp() wires the plugins and routes and returns the instance ready to listen;
 * main.ts listens and closes it.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, LogController } from 'fastify';
import pino from 'pino';
import type { BindOptions } from '../binds/bind-options.js';
import type { BindRegistry } from '../binds/registry.js';
import { SinceTracker, safeBindConfig } from './bind-views.js';
import type { App, HttpAppConfig, RouteContext } from './context.js';
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
import { registerBindRoutes } from './routes/binds.js';
import { registerEventRoutes } from './routes/events.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerOpsRoutes } from './routes/ops.js';
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
import { ErrorSchema } from './schemas/common.js';
import { LivenessSchema, ReadinessSchema, SnapshotSchema, TransitionSchema } from './schemas/ops.js';
import { AJV_OPTIONS, installQueryNumberGuard } from './validation.js';
import { packageVersion } from './version.js';

export type { App, HttpAppConfig } from './context.js';

export interface BuildAppDeps {
  registry: BindRegistry;
  config: HttpAppConfig;
  /** pino logger (main.ts sets its redact paths); none = silent. */
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
  /** Headers not complete within this get 408 REQUEST_TIMEOUT (default Node's, 60000 ms). */
  headersTimeoutMs?: number;
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
  ReadinessSchema,
  LivenessSchema,
  TransitionSchema,
  SnapshotSchema,
];

export async function buildApp(deps: BuildAppDeps): Promise<App> {
  const { registry, config } = deps;
  const logger = deps.logger ?? (pino({ level: 'silent' }) as FastifyBaseLogger);
  const bodyLimitBytes = config.http.bodyLimitBytes;

  const app: App = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLoggerFactory,
    ajv: AJV_OPTIONS,
    bodyLimit: bodyLimitBytes,
    // Ids up to this long reach the schema, which answers VALIDATION_FAILED past 128 characters.
    routerOptions: { maxParamLength: 512 },
    // fastify's own 503 while closing has a body of another shape; main.ts fails readiness first instead.
    return503OnClosing: false,
    frameworkErrors: frameworkErrorHandler(bodyLimitBytes),
    // Parser errors (431, 408, 400) in the one error shape; a missing Host is checked by requireHost.
    clientErrorHandler,
    http: {
      requireHostHeader: false,
      ...(deps.headersTimeoutMs === undefined
        ? {}
        : {
            headersTimeout: deps.headersTimeoutMs,
            // Node looks for late headers once per interval: check often enough to keep the bound.
            connectionsCheckingInterval: Math.max(
              10,
              Math.min(30_000, Math.floor(deps.headersTimeoutMs / 2)),
            ),
          }),
    },
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
  };
  registerBindRoutes(app, ctx);
  registerHealthRoutes(app, ctx);
  registerOpsRoutes(app, ctx);
  registerEventRoutes(app, ctx);
  if (config.metrics.enabled) {
    const metrics = installMetrics(app, registry, {
      perBindHistograms: config.metrics.perBindHistograms === true,
    });
    // A bind removed from the registry takes its label series with it.
    const onRemoved = ({ bindId }: { bindId: string }): void => metrics.forgetBind(bindId);
    registry.on('removed', onRemoved);
    app.addHook('onClose', async () => {
      registry.off('removed', onRemoved);
    });
  }

  await app.ready();
  return app;
}
