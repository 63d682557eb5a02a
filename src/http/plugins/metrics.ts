/**
 * Prometheus metrics, sized for 10,000 binds in one process.
 *
 * Two sources make one exposition:
 * - prom-client, on a registry of this app's own (never its global one, so tests can build many
 *   apps), for the process_* and nodejs_* defaults and the aggregate RTT histogram, which is
 *   observed from the registry's 'probe' events as they happen (a histogram needs every sample).
 * - the per-bind families and the other aggregates, rendered here as text from what each bind
 *   says at scrape time, in slices of SLICE_BINDS binds with a setImmediate between slices, so a
 *   scrape of 10,000 binds never holds the event loop for long (a readiness or health check
 *   arriving meanwhile is answered between two slices). prom-client's registry would build a
 *   label map per series and render 60,000 series in one synchronous pass.
 *
 * The default contract keeps at most 6 series per bind; per-bind histograms and PDU counts
 * (`metrics.perBindHistograms: true`) multiply that by about 40 and are opt-in.
 *
 * Names follow Prometheus conventions: base units (_seconds), _total for counters, HELP and TYPE
 * for each family, so `promtool check metrics` accepts the output without warnings.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { BindSupervisor } from '../../binds/bind.js';
import type { BindRegistry, RegistryEvents } from '../../binds/registry.js';
import type { MessagePath } from '../../bridge/ports.js';
import type { App } from '../context.js';
import { errorResponses } from '../schemas/common.js';

export const RTT_BUCKETS_SECONDS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Every status smpp_binds{status} reports, 0 when no bind has it. */
export const METRIC_STATUSES = ['healthy', 'degraded', 'unhealthy', 'stopped', 'standby'] as const;

/** Binds rendered between two yields to the event loop. */
export const SLICE_BINDS = 500;

/** prom-client's default gauges whose names end in _total although they are not counters. */
const MISNAMED_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export interface MetricsOptions {
  /** process_* and nodejs_* (default true). */
  defaultMetrics?: boolean;
  /** Adds smpp_bind_enquire_link_rtt_seconds{bind,trigger} and smpp_bind_pdus_total{bind,...}. */
  perBindHistograms?: boolean;
  /** Adds the message path's families (smpp_message_*, smpp_submit_*, smpp_receipts_total, smpp_outbound_*). */
  messagePath?: MessagePath;
}

/** submit_sm round trips, in seconds. */
export const SUBMIT_BUCKETS_SECONDS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/**
 * The message path's families, on prom-client: labels are routes and statuses only (bounded by
 * the config), never a message. Returns the unsubscribe.
 */
function installMessageMetrics(register: Registry, path: MessagePath): () => void {
  const changes = new Counter({
    name: 'smpp_message_status_changes_total',
    help: 'Messages that moved into each status, by route.',
    labelNames: ['route', 'status'],
    registers: [register],
  });
  const latency = new Histogram({
    name: 'smpp_submit_latency_seconds',
    help: 'Round trip of submit_sm (written to its response), in seconds, by route.',
    labelNames: ['route'],
    buckets: SUBMIT_BUCKETS_SECONDS,
    registers: [register],
  });
  new Gauge({
    name: 'smpp_outbound_queued_parts',
    help: 'Parts accepted and not settled yet (queued, claimed or sending): the queue depth behind the 429 bound.',
    registers: [register],
    collect() {
      this.set(path.outbound.queuedParts());
    },
  });
  // The store's group commit: on SQLite a commit is synchronous, so the longest one is the
  // longest the event loop was blocked by the store.
  const storeStats = (): ReturnType<MessagePath['store']['stats']> => path.store.stats();
  new Gauge({
    name: 'smpp_store_longest_commit_seconds',
    help: 'The longest a store transaction held the writer since start, BEGIN to end of COMMIT, in seconds (SQLite: the longest event-loop block by the store).',
    registers: [register],
    collect() {
      this.set(storeStats().longestGroupMs / 1000);
    },
  });
  new Counter({
    name: 'smpp_store_commits_total',
    help: 'Store transactions committed (one per group of units of work).',
    registers: [register],
    collect() {
      this.reset();
      this.inc(storeStats().commits);
    },
  });
  new Counter({
    name: 'smpp_store_units_total',
    help: 'Units of work committed by the store (units / commits = the mean group size).',
    registers: [register],
    collect() {
      this.reset();
      this.inc(storeStats().units);
    },
  });
  new Counter({
    name: 'smpp_store_busy_seconds_total',
    help: 'Time store transactions held the writer, in seconds (busy / commits = the mean commit).',
    registers: [register],
    collect() {
      this.reset();
      this.inc(storeStats().busyMs / 1000);
    },
  });
  // WAL checkpoints in a child process (SQLite): a fallback puts them back in COMMIT, on the event loop.
  if (storeStats().checkpoints !== undefined) {
    const checkpoints = () => storeStats().checkpoints;
    new Counter({
      name: 'smpp_store_checkpoints_total',
      help: 'SQLite WAL checkpoints run by the checkpoint child process, off the event loop.',
      registers: [register],
      collect() {
        this.reset();
        this.inc(checkpoints()?.count ?? 0);
      },
    });
    new Counter({
      name: 'smpp_store_checkpoint_seconds_total',
      help: 'Time the checkpoint child process spent in WAL checkpoints, in seconds.',
      registers: [register],
      collect() {
        this.reset();
        this.inc((checkpoints()?.totalMs ?? 0) / 1000);
      },
    });
    new Counter({
      name: 'smpp_store_checkpoint_fallbacks_total',
      help: 'Times the writer went back to checkpointing in COMMIT, on the event loop, because the checkpoint child failed or fell behind (each also logged).',
      registers: [register],
      collect() {
        this.reset();
        this.inc(checkpoints()?.fallbacks ?? 0);
      },
    });
    new Gauge({
      name: 'smpp_store_checkpoint_inline',
      help: '1 while WAL checkpoints run in COMMIT on the event loop (the child failed; a new one is tried with backoff), 0 while the child runs them.',
      registers: [register],
      collect() {
        this.set(checkpoints()?.mode === 'inline' ? 1 : 0);
      },
    });
  }
  if (path.receiptCounts) {
    const counts = path.receiptCounts.bind(path);
    new Counter({
      name: 'smpp_receipts_total',
      help: 'Delivery receipts: matched to a part, or orphaned (parked without a match yet).',
      labelNames: ['result'],
      registers: [register],
      collect() {
        const c = counts();
        this.reset();
        this.inc({ result: 'matched' }, c.matched);
        this.inc({ result: 'orphaned' }, c.orphaned);
      },
    });
  }
  const offs: (() => void)[] = [];
  if (path.onStatusChange) {
    offs.push(path.onStatusChange((c) => changes.inc({ route: c.message.route, status: c.status })));
  }
  if (path.onSubmitLatency) {
    offs.push(path.onSubmitLatency((route, ms) => latency.observe({ route }, ms / 1000)));
  }
  return () => {
    for (const off of offs) off();
  };
}

export interface AppMetrics {
  /** prom-client's part: the defaults and the aggregate RTT histogram. */
  register: Registry;
  /** The exposition text (concurrent calls share one render). */
  render(): Promise<string>;
  /**
   * Drops what is kept of a bind between scrapes (its per-bind histogram). Call it when a bind is
   * removed from the registry; its other series vanish by themselves, being read from the registry.
   */
  forgetBind(id: string): void;
  /** Stops observing the bind registry. */
  close(): void;
}

/**
 * One family of the text format: its header, the text of the slices done (joined at the end of
 * each slice, so no single step joins 10,000 lines) and the lines of the slice under way.
 */
interface Family {
  header: string;
  chunks: string[];
  lines: string[];
}

function family(name: string, type: 'gauge' | 'counter' | 'histogram', help: string): Family {
  return { header: `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`, chunks: [], lines: [] };
}

function endSlice(families: readonly (Family | null)[]): void {
  for (const f of families) {
    if (f === null || f.lines.length === 0) continue;
    f.chunks.push(f.lines.join(''));
    f.lines.length = 0;
  }
}

const NEEDS_ESCAPE = /[\\"\n]/;

/** A label value as the text format wants it: backslash, double quote and newline escaped. */
export function escapeLabel(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** A sample value: Go's float formatting as Prometheus parses it. */
function num(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

/**
 * A bind's RTT histogram by trigger, as counts per bucket (not cumulative) plus the +Inf bucket,
 * the sum and the count: `RTT_BUCKETS_SECONDS.length + 3` numbers in one Float64Array.
 */
type BindHistogram = Map<string, Float64Array>;

const B = RTT_BUCKETS_SECONDS.length;

function observeInto(h: BindHistogram, trigger: string, seconds: number): void {
  let a = h.get(trigger);
  if (a === undefined) {
    a = new Float64Array(B + 3);
    h.set(trigger, a);
  }
  let i = 0;
  while (i < B && seconds > RTT_BUCKETS_SECONDS[i]!) i++;
  a[i]!++;
  a[B + 1]! += seconds;
  a[B + 2]!++;
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function createMetrics(binds: BindRegistry, options: MetricsOptions = {}): AppMetrics {
  const perBind = options.perBindHistograms === true;
  const register = new Registry();
  if (options.defaultMetrics !== false) {
    collectDefaultMetrics({ register });
    // Their per-type siblings (nodejs_active_handles{type}, ...) carry the same information.
    for (const name of MISNAMED_DEFAULTS) register.removeSingleMetric(name);
  }

  const rtt = new Histogram({
    name: 'smpp_enquire_link_rtt_seconds',
    help: 'Round trip of answered enquire_link probes over all binds, in seconds.',
    labelNames: ['trigger'],
    buckets: RTT_BUCKETS_SECONDS,
    registers: [register],
  });

  const bindRtt = new Map<string, BindHistogram>();
  const onProbe = (outcome: RegistryEvents['probe'][0]): void => {
    if (!outcome.ok) return;
    const seconds = outcome.rttMs / 1000;
    rtt.observe({ trigger: outcome.trigger }, seconds);
    if (perBind) {
      let h = bindRtt.get(outcome.bindId);
      if (h === undefined) {
        h = new Map();
        bindRtt.set(outcome.bindId, h);
      }
      observeInto(h, outcome.trigger, seconds);
    }
  };
  binds.on('probe', onProbe);
  const stopMessageMetrics = options.messagePath
    ? installMessageMetrics(register, options.messagePath)
    : () => {};

  const renderBinds = async (): Promise<string> => {
    const up = family('smpp_bind_up', 'gauge', 'Whether the bind has a bound SMPP session (1) or not (0).');
    const status = family(
      'smpp_bind_status',
      'gauge',
      'Health status of the bind: one series per bind, labelled with the current status, value 1.',
    );
    const lastRtt = family(
      'smpp_bind_last_rtt_seconds',
      'gauge',
      'Round trip of the last enquire_link of the bind, in seconds; absent while the last probe was not answered.',
    );
    const reconnects = family('smpp_reconnects_total', 'counter', 'Reconnect attempts of the bind.');
    const failures = family(
      'smpp_probe_failures_total',
      'counter',
      'enquire_link probes of the bind that failed (timed out or the connection closed).',
    );
    const inFlight = family(
      'smpp_window_in_flight',
      'gauge',
      'Requests of the bind waiting for their response.',
    );
    const bindHist = perBind
      ? family(
          'smpp_bind_enquire_link_rtt_seconds',
          'histogram',
          'Round trip of answered enquire_link probes of the bind, in seconds.',
        )
      : null;
    const bindPdus = perBind
      ? family(
          'smpp_bind_pdus_total',
          'counter',
          'PDUs sent (out) and received (in) by the bind, by command.',
        )
      : null;
    const totalIn: Record<string, number> = Object.create(null);
    const totalOut: Record<string, number> = Object.create(null);
    const byStatus = new Map<string, number>(METRIC_STATUSES.map((s) => [s, 0]));

    const perBindFamilies = [up, status, lastRtt, reconnects, failures, inFlight, bindHist, bindPdus];
    const list = binds.list();
    for (let start = 0; start < list.length; start += SLICE_BINDS) {
      if (start > 0) await yieldToLoop();
      const end = Math.min(list.length, start + SLICE_BINDS);
      for (let i = start; i < end; i++) {
        const bind = list[i]!;
        const l = `bind="${escapeLabel(bind.id)}"`;
        const st = bind.refreshHealth().status;
        byStatus.set(st, (byStatus.get(st) ?? 0) + 1);
        up.lines.push(`smpp_bind_up{${l}} ${bind.state === 'bound' ? 1 : 0}\n`);
        status.lines.push(`smpp_bind_status{${l},status="${st}"} 1\n`);
        const rttMs = bind.lastRttMs;
        if (rttMs !== null) lastRtt.lines.push(`smpp_bind_last_rtt_seconds{${l}} ${num(rttMs / 1000)}\n`);
        const c = bind.metricsCounts();
        reconnects.lines.push(`smpp_reconnects_total{${l}} ${c.reconnects}\n`);
        failures.lines.push(`smpp_probe_failures_total{${l}} ${c.probesFailed}\n`);
        inFlight.lines.push(`smpp_window_in_flight{${l}} ${c.windowInFlight}\n`);
        if (bindPdus !== null && bindHist !== null) {
          renderBindHistogram(bindHist, l, bindRtt.get(bind.id));
          renderBindPdus(bindPdus, l, bind, totalIn, totalOut);
        } else {
          bind.addPduCounts(totalIn, totalOut);
        }
      }
      endSlice(perBindFamilies);
    }

    const pdus = family(
      'smpp_pdus_total',
      'counter',
      'PDUs sent (out) and received (in) over all binds, by command.',
    );
    for (const [direction, totals] of [
      ['in', totalIn],
      ['out', totalOut],
    ] as const) {
      for (const command of Object.keys(totals).sort())
        pdus.lines.push(
          `smpp_pdus_total{direction="${direction}",command="${command}"} ${totals[command]}\n`,
        );
    }
    const count = family('smpp_binds', 'gauge', 'Binds by health status.');
    for (const [s, n] of byStatus) count.lines.push(`smpp_binds{status="${escapeLabel(s)}"} ${n}\n`);

    const families = [up, status, lastRtt, reconnects, failures, inFlight, pdus, count];
    if (bindHist !== null) families.push(bindHist);
    if (bindPdus !== null) families.push(bindPdus);
    let text = '';
    for (const f of families) text += f.header + f.chunks.join('') + f.lines.join('');
    return text;
  };

  let rendering: Promise<string> | null = null;
  const render = async (): Promise<string> => {
    const own = await renderBinds();
    // prom-client's collection (process stats, GC, the histogram) in a turn of its own.
    await yieldToLoop();
    const fromRegistry = await register.metrics();
    return fromRegistry === '' || fromRegistry.endsWith('\n')
      ? fromRegistry + own
      : `${fromRegistry}\n${own}`;
  };

  return {
    register,
    render() {
      rendering ??= render().finally(() => {
        rendering = null;
      });
      return rendering;
    },
    forgetBind(id: string) {
      bindRtt.delete(id);
    },
    close() {
      binds.off('probe', onProbe);
      stopMessageMetrics();
    },
  };
}

function renderBindHistogram(f: Family, l: string, h: BindHistogram | undefined): void {
  if (h === undefined) return;
  for (const [trigger, a] of h) {
    const lt = `${l},trigger="${escapeLabel(trigger)}"`;
    let cumulative = 0;
    for (let i = 0; i < B; i++) {
      cumulative += a[i]!;
      f.lines.push(
        `smpp_bind_enquire_link_rtt_seconds_bucket{${lt},le="${RTT_BUCKETS_SECONDS[i]}"} ${cumulative}\n`,
      );
    }
    f.lines.push(`smpp_bind_enquire_link_rtt_seconds_bucket{${lt},le="+Inf"} ${a[B + 2]}\n`);
    f.lines.push(`smpp_bind_enquire_link_rtt_seconds_sum{${lt}} ${num(a[B + 1]!)}\n`);
    f.lines.push(`smpp_bind_enquire_link_rtt_seconds_count{${lt}} ${a[B + 2]}\n`);
  }
}

function renderBindPdus(
  f: Family,
  l: string,
  bind: BindSupervisor,
  totalIn: Record<string, number>,
  totalOut: Record<string, number>,
): void {
  const pdusIn: Record<string, number> = Object.create(null);
  const pdusOut: Record<string, number> = Object.create(null);
  bind.addPduCounts(pdusIn, pdusOut);
  for (const [direction, counts, totals] of [
    ['in', pdusIn, totalIn],
    ['out', pdusOut, totalOut],
  ] as const) {
    for (const command in counts) {
      const n = counts[command]!;
      totals[command] = (totals[command] ?? 0) + n;
      f.lines.push(`smpp_bind_pdus_total{${l},direction="${direction}",command="${command}"} ${n}\n`);
    }
  }
}

/** GET /metrics on the app, backed by a registry of its own. */
export function installMetrics(app: App, binds: BindRegistry, options: MetricsOptions = {}): AppMetrics {
  const metrics = createMetrics(binds, options);
  app.addHook('onClose', async () => metrics.close());
  app.get(
    '/metrics',
    {
      schema: {
        operationId: 'getMetrics',
        summary: 'Prometheus metrics',
        description:
          'Text exposition format 0.0.4. Per bind: smpp_bind_up, smpp_bind_status, smpp_bind_last_rtt_seconds, smpp_reconnects_total, smpp_probe_failures_total, smpp_window_in_flight. Over all binds: smpp_enquire_link_rtt_seconds{trigger}, smpp_pdus_total{direction,command}, smpp_binds{status}. With metrics.perBindHistograms: smpp_bind_enquire_link_rtt_seconds and smpp_bind_pdus_total. When the message path runs: smpp_message_status_changes_total{route,status}, smpp_submit_latency_seconds{route}, smpp_outbound_queued_parts, smpp_receipts_total{result}. And the process_* and nodejs_* defaults.',
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
                      '# HELP smpp_bind_up Whether the bind has a bound SMPP session (1) or not (0).\n# TYPE smpp_bind_up gauge\nsmpp_bind_up{bind="main"} 1\n# HELP smpp_probe_failures_total enquire_link probes of the bind that failed (timed out or the connection closed).\n# TYPE smpp_probe_failures_total counter\nsmpp_probe_failures_total{bind="main"} 2\n',
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
