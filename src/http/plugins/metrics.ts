/**
 * Prometheus metrics on a registry of this app's own (never prom-client's global one, so tests
 * can build many apps). Per-bind state is read at scrape time through collect() callbacks from a
 * snapshot of health() taken once per scrape; only probe outcomes are observed as they happen
 * (from the registry's 'probe' events), since a histogram needs every sample.
 *
 * Names follow Prometheus conventions: base units (_seconds), _total for counters, HELP and TYPE
 * for each, so `promtool check metrics` accepts the output without warnings.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { BindHealth, BindSupervisor } from '../../binds/bind.js';
import type { BindRegistry, RegistryEvents } from '../../binds/registry.js';
import type { App } from '../context.js';
import { errorResponses } from '../schemas/common.js';

export const RTT_BUCKETS_SECONDS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

const STATUSES = ['healthy', 'degraded', 'unhealthy', 'stopped', 'standby'] as const;

/** prom-client's default gauges whose names end in _total although they are not counters. */
const MISNAMED_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

interface Snapshot {
  bind: BindSupervisor;
  health: BindHealth;
}

export interface AppMetrics {
  register: Registry;
  /** The exposition text; takes one health snapshot of every bind for all collectors. */
  render(): Promise<string>;
  /** Stops observing the bind registry. */
  close(): void;
}

export function createMetrics(binds: BindRegistry, options: { defaultMetrics?: boolean } = {}): AppMetrics {
  const register = new Registry();
  if (options.defaultMetrics !== false) {
    collectDefaultMetrics({ register });
    // Their per-type siblings (nodejs_active_handles{type}, ...) carry the same information.
    for (const name of MISNAMED_DEFAULTS) register.removeSingleMetric(name);
  }

  let current: Snapshot[] | null = null;
  const snapshot = (): Snapshot[] => current ?? binds.list().map((bind) => ({ bind, health: bind.health() }));

  new Gauge({
    name: 'smpp_bind_up',
    help: 'Whether the bind has a bound SMPP session (1) or not (0).',
    labelNames: ['bind'],
    registers: [register],
    collect() {
      this.reset();
      for (const { bind, health } of snapshot())
        this.set({ bind: bind.id }, health.state === 'bound' ? 1 : 0);
    },
  });

  new Gauge({
    name: 'smpp_bind_status',
    help: 'Health status of the bind: 1 for the current status, 0 for the others.',
    labelNames: ['bind', 'status'],
    registers: [register],
    collect() {
      this.reset();
      for (const { bind, health } of snapshot()) {
        for (const status of STATUSES) this.set({ bind: bind.id, status }, health.status === status ? 1 : 0);
      }
    },
  });

  const rtt = new Histogram({
    name: 'smpp_enquire_link_rtt_seconds',
    help: 'Round trip of answered enquire_link probes, in seconds.',
    labelNames: ['bind', 'trigger'],
    buckets: RTT_BUCKETS_SECONDS,
    registers: [register],
  });

  const probeFailures = new Counter({
    name: 'smpp_probe_failures_total',
    help: 'enquire_link probes that failed (timed out or the connection closed).',
    labelNames: ['bind', 'trigger'],
    registers: [register],
  });

  new Counter({
    name: 'smpp_reconnects_total',
    help: 'Reconnect attempts of the bind.',
    labelNames: ['bind'],
    registers: [register],
    collect() {
      this.reset();
      for (const { bind, health } of snapshot()) this.inc({ bind: bind.id }, health.counters.reconnects);
    },
  });

  new Counter({
    name: 'smpp_pdus_total',
    help: 'PDUs sent (out) and received (in) by the bind, by command.',
    labelNames: ['bind', 'direction', 'command'],
    registers: [register],
    collect() {
      this.reset();
      for (const { bind, health } of snapshot()) {
        for (const [command, n] of Object.entries(health.counters.pdusIn))
          this.inc({ bind: bind.id, direction: 'in', command }, n);
        for (const [command, n] of Object.entries(health.counters.pdusOut))
          this.inc({ bind: bind.id, direction: 'out', command }, n);
      }
    },
  });

  new Gauge({
    name: 'smpp_window_in_flight',
    help: 'Requests of the bind waiting for their response.',
    labelNames: ['bind'],
    registers: [register],
    collect() {
      this.reset();
      for (const { bind, health } of snapshot()) this.set({ bind: bind.id }, health.window.used);
    },
  });

  new Gauge({
    name: 'smpp_window_capacity',
    help: 'Window size of the bind: requests allowed in flight at once.',
    labelNames: ['bind'],
    registers: [register],
    collect() {
      this.reset();
      for (const { bind, health } of snapshot()) this.set({ bind: bind.id }, health.window.capacity);
    },
  });

  const onProbe = (outcome: RegistryEvents['probe'][0]): void => {
    const labels = { bind: outcome.bindId, trigger: outcome.trigger };
    if (outcome.ok) rtt.observe(labels, outcome.rttMs / 1000);
    else probeFailures.inc(labels);
  };
  binds.on('probe', onProbe);

  return {
    register,
    async render() {
      // Collectors run synchronously at the start of metrics(): they all see this one snapshot.
      current = binds.list().map((bind) => ({ bind, health: bind.health() }));
      try {
        return await register.metrics();
      } finally {
        current = null;
      }
    },
    close() {
      binds.off('probe', onProbe);
    },
  };
}

/** GET /metrics on the app, backed by a registry of its own. */
export function installMetrics(app: App, binds: BindRegistry): AppMetrics {
  const metrics = createMetrics(binds);
  app.addHook('onClose', async () => metrics.close());
  app.get(
    '/metrics',
    {
      schema: {
        operationId: 'getMetrics',
        summary: 'Prometheus metrics',
        description:
          'Text exposition format 0.0.4: smpp_bind_up, smpp_bind_status, smpp_enquire_link_rtt_seconds, smpp_probe_failures_total, smpp_reconnects_total, smpp_pdus_total, smpp_window_in_flight, smpp_window_capacity, and the process_* and nodejs_* defaults.',
        tags: ['ops'],
        security: [{}, { bearerAuth: [] }],
        response: {
          200: {
            description: 'The metrics.',
            content: {
              'text/plain': {
                schema: { type: 'string' },
                examples: {
                  scrape: {
                    summary: 'Two of the metrics',
                    value:
                      '# HELP smpp_bind_up Whether the bind has a bound SMPP session (1) or not (0).\n# TYPE smpp_bind_up gauge\nsmpp_bind_up{bind="main"} 1\n# HELP smpp_probe_failures_total enquire_link probes that failed (timed out or the connection closed).\n# TYPE smpp_probe_failures_total counter\nsmpp_probe_failures_total{bind="main",trigger="keepalive"} 2\n',
                  },
                },
              },
            },
          },
          ...errorResponses('UNAUTHORIZED', 'INTERNAL_ERROR'),
        },
      },
    },
    async (_request, reply) => {
      const text = await metrics.render();
      reply.type(metrics.register.contentType);
      return text;
    },
  );
  return metrics;
}
