/**
 * The message path as `serve` runs it: the store (config `store`), the webhook sender from the
 * durable outbox (config `webhooks`), the outbound engine over the binds (config `routes`,
 * `outbound`), the inbound deliver_sm/data_sm handler (receipts to the engine's correlation, MO
 * stored before ESME_ROK; config `mo`), a cached store health check for /readyz, and retention
 * pruning on a timer. serve.ts starts it after the binds exist, hands `messagePath` and the webhook
 * control to the HTTP app, and stops it in the shutdown order: stop claiming → responses in flight
 * land (bounded) → [serve unbinds] → the inbound sweeper stops → webhook requests in flight finish
 * (bounded) → close the store.
 */

import type { HealthTransition } from '../binds/bind-health.js';
import type { BindRegistry } from '../binds/registry.js';
import { createInboundHandler, type InboundPath, routeOfBindIn } from '../bridge/inbound/index.js';
import { OutboundEngine } from '../bridge/outbound/engine.js';
import { BindOwnership } from '../bridge/ownership/bind-ownership.js';
import { OwnershipLeases } from '../bridge/ownership/ownership-leases.js';
import { registryTarget } from '../bridge/ownership/registry-target.js';
import type { MessagePath, ReceiptSink } from '../bridge/ports.js';
import { type BindInfo, buildRouteTable } from '../bridge/routing.js';
import type { ServiceConfig } from '../config/service-config.js';
import type { Logger } from '../logger.js';
import { connectStore } from '../store/index.js';
import { redactUrlPassword } from '../store/postgres-url.js';
import type { Store, StoreHealth } from '../store/store.js';
import { createWebhookDelivery, type WebhookDelivery } from '../webhooks/delivery.js';

/** How often the store is asked whether it accepts writes (readiness reads the cached answer). */
export const STORE_HEALTH_INTERVAL_MS = 5_000;
/** How often finished messages past the retention are pruned. */
export const PRUNE_INTERVAL_MS = 60 * 60 * 1000;

export interface RunningMessagePath {
  readonly store: Store;
  readonly engine: OutboundEngine;
  readonly messagePath: MessagePath;
  /** For the inbound handler: delivery receipts go here. */
  readonly receipts: ReceiptSink;
  /** The registry's inbound handler (set by startMessagePath). */
  readonly inbound: InboundPath;
  /** The webhook sender (for buildApp's `webhooks`). */
  readonly webhooks: WebhookDelivery;
  /** Which binds this replica runs (leases in the store); serve starts it once the registry runs. */
  readonly ownership: BindOwnership;
  /** Stop claiming; wait for responses in flight up to drainMs. */
  stopSending(drainMs: number): Promise<{ outstanding: number }>;
  /**
   * Stops the timers, the inbound sweeper and the webhook sender (requests in flight get
   * `webhookGraceMs`), then closes the store (after the binds unbound).
   */
  close(webhookGraceMs?: number): Promise<void>;
}

export interface MessagePathOptions {
  /** The binds the routes may name (config binds plus the demo bind). */
  binds: readonly BindInfo[];
}

export async function startMessagePath(
  config: ServiceConfig,
  registry: BindRegistry,
  logger: Logger,
  options: MessagePathOptions,
): Promise<RunningMessagePath> {
  // store.url selects PostgreSQL (connected and migrated here, so a bad URL fails the start);
  // without it, the SQLite file at store.path.
  const store = await connectStore({
    path: config.store.path,
    synchronous: config.store.synchronous,
    retentionDays: config.store.retentionDays,
    url: config.store.url,
    // SQLite: the WAL checkpointer's warnings (a fallback onto the event loop) and debug lines.
    logger: logger.child({ component: 'store' }),
  });
  if (config.store.url !== undefined && config.store.url !== '') {
    const url = redactUrlPassword(config.store.url);
    logger.info({ url }, `message store: PostgreSQL at ${url}`);
  } else if (config.demo) {
    logger.info(
      `demo mode: messages are stored in ${config.store.path} (a temporary file; set store.path to keep them)`,
    );
  } else logger.info({ path: config.store.path }, `message store: ${config.store.path}`);
  let engine: OutboundEngine;
  let ownership: BindOwnership;
  let webhooks: WebhookDelivery;
  let inbound: InboundPath;
  let onTransition: ((t: HealthTransition) => void) | null = null;
  try {
    webhooks = createWebhookDelivery({
      store,
      config: config.webhooks,
      logger: logger.child({ component: 'webhooks' }),
    });
    // One replica runs each bind: the rest hold it as standby (a single process owns them all).
    ownership = new BindOwnership({
      store,
      target: registryTarget(registry),
      ttlMs: config.leases.ttlMs,
      renewIntervalMs: config.leases.renewIntervalMs,
      logger: logger.child({ component: 'ownership' }),
      ...(config.leases.owner !== undefined ? { owner: config.leases.owner } : {}),
      // On PostgreSQL other replicas may be starting too: see them before taking a share.
      joinDelayMs: config.store.url ? config.leases.renewIntervalMs : 0,
    });
    registry.setOwnershipGate(ownership);
    const routes = buildRouteTable(config.routes.length > 0 ? config.routes : undefined, options.binds);
    engine = new OutboundEngine({
      store,
      registry,
      routes,
      options: config.outbound,
      logger: logger.child({ component: 'outbound' }),
      sink: webhooks.fanOut,
      leases: new OwnershipLeases(ownership),
    });
    const outbound = engine;
    ownership.onChange(() => outbound.leasesChanged());
    inbound = createInboundHandler({
      store,
      receipts: engine.receipts,
      events: webhooks.fanOut,
      routeOfBind: routeOfBindIn(() => engine.routes()),
      reassemblyTimeoutMs: config.mo.reassemblyTimeoutMs,
      dedupWindowMs: config.mo.dedupWindowMs,
      logger: logger.child({ component: 'inbound' }),
    });
    await webhooks.start();
    await engine.start();
    registry.setInboundHandler(inbound.handle);
    inbound.start();
    // bind.health_changed events for endpoints that subscribe to them (written to the outbox).
    if (config.webhooks.endpoints.some((e) => e.events.includes('bind.health_changed'))) {
      const fanOut = webhooks.fanOut;
      onTransition = (t) => {
        void fanOut
          .onBindHealthChanged(store, {
            bindId: t.bindId,
            from: t.from,
            to: t.to,
            code: t.code,
            at: Date.parse(t.at),
          })
          .catch((error: unknown) =>
            logger.warn({ err: error, bindId: t.bindId }, 'could not queue a bind.health_changed webhook'),
          );
      };
      registry.on('transition', onTransition);
    }
  } catch (error) {
    registry.setInboundHandler(null);
    registry.setOwnershipGate(null);
    await store.close().catch(() => {});
    throw error;
  }

  let health: StoreHealth = { ok: true, latencyMs: 0 };
  let checking = false;
  const check = async (): Promise<void> => {
    if (checking) return;
    checking = true;
    try {
      const next = await store.healthCheck();
      if (next.ok !== health.ok) {
        if (next.ok) logger.info('the message store accepts writes again');
        else logger.error({ error: next.error }, 'the message store cannot accept writes: not ready');
      }
      health = next;
    } finally {
      checking = false;
    }
  };
  await check();
  const healthTimer = setInterval(() => void check(), STORE_HEALTH_INTERVAL_MS);
  healthTimer.unref();
  const prune = async (): Promise<void> => {
    try {
      const removed = await store.prune(Date.now());
      if (removed.messages > 0) logger.info({ removed }, `pruned ${removed.messages} finished messages`);
    } catch (error) {
      logger.warn({ err: error }, 'pruning the message store failed');
    }
  };
  const pruneTimer = setInterval(() => void prune(), PRUNE_INTERVAL_MS);
  pruneTimer.unref();

  const messagePath: MessagePath = {
    store,
    outbound: engine,
    routes: () => engine.routes(),
    storeHealth: () =>
      health.ok ? { ok: true } : { ok: false, error: health.error ?? 'the store cannot accept writes' },
    onStatusChange: (listener) => engine.onStatusChange(listener),
    onSubmitLatency: (listener) =>
      engine.onSubmitLatency((route, _bind, latencyMs) => listener(route, latencyMs)),
    receiptCounts: () => ({
      matched: engine.counters.receiptsMatched,
      orphaned: engine.counters.receiptsOrphaned,
    }),
  };
  let closed = false;
  return {
    store,
    engine,
    messagePath,
    receipts: engine.receipts,
    inbound,
    webhooks,
    ownership,
    stopSending: (drainMs) => engine.stop(drainMs),
    async close(webhookGraceMs = 1_000) {
      if (closed) return;
      closed = true;
      clearInterval(healthTimer);
      clearInterval(pruneTimer);
      // The binds are stopped by now: give their leases back and leave, so the other replicas
      // take them at their next pass rather than after the TTL.
      await ownership.stop();
      registry.setOwnershipGate(null);
      if (onTransition) registry.off('transition', onTransition);
      registry.setInboundHandler(null);
      await engine.stop(0);
      await inbound.close();
      await webhooks.stop(webhookGraceMs);
      await store.close();
    },
  };
}
