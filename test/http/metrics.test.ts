import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app.js';
import { RTT_BUCKETS_SECONDS } from '../../src/http/plugins/metrics.js';
import { BIND_METRICS } from '../deploy/metric-contract.js';
import {
  bindOptions,
  closedPort,
  config,
  type Harness,
  MUTE_SYSTEM_ID,
  startHarness,
  waitBound,
} from './harness.js';

const PROMTOOL = '/usr/bin/promtool';

let h: Harness;
let app: App;
/** The exposition with metrics.perBindHistograms on, from the test that asserts its content. */
let perBindText = '';

beforeAll(async () => {
  h = await startHarness();
  h.registry.add(bindOptions('main', h.port, { minProbeIntervalMs: 0, windowSize: 7 }));
  h.registry.add(bindOptions('mute', h.port, { systemId: MUTE_SYSTEM_ID, minProbeIntervalMs: 0 }));
  h.registry.add(bindOptions('down', await closedPort()));
  h.registry.startAll();
  await waitBound(h.registry.get('main')!);
  await waitBound(h.registry.get('mute')!);
  h.simulator.setFault({ kind: 'blackhole' }, { systemId: MUTE_SYSTEM_ID });
  app = await h.app();
  // One answered manual probe on main, one timed-out manual probe on mute.
  expect((await app.inject({ method: 'POST', url: '/binds/main/enquire' })).statusCode).toBe(200);
  const timeout = await app.inject({
    method: 'POST',
    url: '/binds/mute/enquire',
    headers: { 'content-type': 'application/json' },
    payload: { timeoutMs: 100 },
  });
  expect(timeout.statusCode).toBe(504);
});

afterAll(async () => {
  await h?.close();
});

interface Family {
  help: string | null;
  type: string | null;
  samples: { name: string; labels: Record<string, string>; value: number }[];
}

/** A small parser of the Prometheus text format: families by name with HELP, TYPE and samples. */
function parse(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string): Family => {
    let f = families.get(name);
    if (!f) {
      f = { help: null, type: null, samples: [] };
      families.set(name, f);
    }
    return f;
  };
  let current = '';
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      current = meta[2]!;
      if (meta[1] === 'HELP') family(current).help = meta[3]!;
      else family(current).type = meta[3]!;
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) throw new Error(`unparsable line: ${line}`);
    const labels: Record<string, string> = {};
    for (const m of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[m[1]!] = m[2]!;
    family(current).samples.push({ name: sample[1]!, labels, value: Number(sample[3]) });
  }
  return families;
}

function value(f: Family | undefined, name: string, labels: Record<string, string>): number | undefined {
  return f?.samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )?.value;
}

async function scrape(target: App = app): Promise<{ text: string; families: Map<string, Family> }> {
  const res = await target.inject({ url: '/metrics' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return { text: res.body, families: parse(res.body) };
}

describe('GET /metrics', () => {
  it('gives every family a HELP and a TYPE', async () => {
    const { families } = await scrape();
    for (const [name, f] of families) {
      expect(f.help, name).not.toBeNull();
      expect(f.type, name).not.toBeNull();
    }
  });

  it('reports smpp_bind_up and exactly one smpp_bind_status series per bind: the current status, 1', async () => {
    const { families } = await scrape();
    const up = families.get('smpp_bind_up');
    expect(up?.type).toBe('gauge');
    expect(value(up, 'smpp_bind_up', { bind: 'main' })).toBe(1);
    expect(value(up, 'smpp_bind_up', { bind: 'down' })).toBe(0);
    const status = families.get('smpp_bind_status');
    expect(status?.type).toBe('gauge');
    for (const [bind, current] of [
      ['main', 'healthy'],
      ['mute', 'degraded'],
      ['down', 'unhealthy'],
    ] as const) {
      const series = status!.samples.filter((s) => s.labels.bind === bind);
      expect(series, bind).toEqual([
        { name: 'smpp_bind_status', labels: { bind, status: current }, value: 1 },
      ]);
    }
  });

  it('counts binds per status in smpp_binds, every status present', async () => {
    const { families } = await scrape();
    const binds = families.get('smpp_binds');
    expect(binds?.type).toBe('gauge');
    expect(Object.fromEntries(binds!.samples.map((s) => [s.labels.status, s.value]))).toEqual({
      healthy: 1,
      degraded: 1,
      unhealthy: 1,
      stopped: 0,
      standby: 0,
    });
  });

  it('reports the last answered probe round trip of each bind in seconds', async () => {
    const { families } = await scrape();
    const last = families.get('smpp_bind_last_rtt_seconds');
    expect(last?.type).toBe('gauge');
    const main = value(last, 'smpp_bind_last_rtt_seconds', { bind: 'main' })!;
    expect(main).toBeCloseTo(h.registry.get('main')!.lastRttMs! / 1000, 9);
    expect(main).toBeGreaterThan(0);
    // Never answered: no series rather than a made-up value.
    expect(value(last, 'smpp_bind_last_rtt_seconds', { bind: 'down' })).toBeUndefined();
  });

  it('observes probe round trips in one histogram over all binds, by trigger, with sub-millisecond buckets', async () => {
    const { families } = await scrape();
    const rtt = families.get('smpp_enquire_link_rtt_seconds');
    expect(rtt?.type).toBe('histogram');
    expect(rtt!.samples.every((s) => s.labels.bind === undefined)).toBe(true);
    const labels = { trigger: 'manual' };
    expect(value(rtt, 'smpp_enquire_link_rtt_seconds_count', labels)).toBe(1);
    const sum = value(rtt, 'smpp_enquire_link_rtt_seconds_sum', labels)!;
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(1);
    const les = rtt!.samples
      .filter((s) => s.name === 'smpp_enquire_link_rtt_seconds_bucket' && s.labels.trigger === 'manual')
      .map((s) => s.labels.le);
    expect(les).toEqual([...RTT_BUCKETS_SECONDS.map(String), '+Inf']);
    expect(RTT_BUCKETS_SECONDS[0]).toBe(0.0001);
    expect(value(rtt, 'smpp_enquire_link_rtt_seconds_bucket', { ...labels, le: '+Inf' })).toBe(1);
  });

  it('counts failed probes by bind', async () => {
    const { families } = await scrape();
    const failures = families.get('smpp_probe_failures_total');
    expect(failures?.type).toBe('counter');
    expect(value(failures, 'smpp_probe_failures_total', { bind: 'mute' })).toBe(1);
    expect(value(failures, 'smpp_probe_failures_total', { bind: 'main' })).toBe(0);
  });

  it('keeps at most 6 series per bind by default', async () => {
    const { families } = await scrape();
    for (const bind of ['main', 'mute', 'down']) {
      let n = 0;
      for (const f of families.values()) n += f.samples.filter((s) => s.labels.bind === bind).length;
      expect(n, bind).toBeLessThanOrEqual(6);
      expect(n, bind).toBeGreaterThanOrEqual(5);
    }
    expect(families.has('smpp_bind_enquire_link_rtt_seconds')).toBe(false);
    expect(families.has('smpp_bind_pdus_total')).toBe(false);
  });

  it('reads PDU counts, reconnects and the window from the binds at scrape time', async () => {
    const { families } = await scrape();
    const pdus = families.get('smpp_pdus_total');
    expect(pdus?.type).toBe('counter');
    expect(pdus!.samples.every((s) => s.labels.bind === undefined)).toBe(true);
    // Two binds bound once each; down never got a bind_resp.
    expect(value(pdus, 'smpp_pdus_total', { direction: 'out', command: 'bind_transceiver' })).toBe(2);
    expect(value(pdus, 'smpp_pdus_total', { direction: 'in', command: 'bind_transceiver_resp' })).toBe(2);
    const sent = ['main', 'mute', 'down'].reduce(
      (n, id) => n + (h.registry.get(id)!.health().counters.pdusOut.enquire_link ?? 0),
      0,
    );
    expect(value(pdus, 'smpp_pdus_total', { direction: 'out', command: 'enquire_link' })).toBe(sent);
    await app.inject({ method: 'POST', url: '/binds/main/enquire' });
    const after = (await scrape()).families.get('smpp_pdus_total');
    expect(value(after, 'smpp_pdus_total', { direction: 'out', command: 'enquire_link' })).toBeGreaterThan(
      sent,
    );

    const reconnects = families.get('smpp_reconnects_total');
    expect(reconnects?.type).toBe('counter');
    expect(value(reconnects, 'smpp_reconnects_total', { bind: 'main' })).toBe(0);
    // down keeps reconnecting: the scraped count lies between the counts before and after a scrape.
    const down = h.registry.get('down')!;
    const low = down.health().counters.reconnects;
    const scraped = value((await scrape()).families.get('smpp_reconnects_total'), 'smpp_reconnects_total', {
      bind: 'down',
    })!;
    const high = down.health().counters.reconnects;
    expect(low).toBeGreaterThan(0);
    expect(scraped).toBeGreaterThanOrEqual(low);
    expect(scraped).toBeLessThanOrEqual(high);
    expect(value(families.get('smpp_window_in_flight'), 'smpp_window_in_flight', { bind: 'main' })).toBe(0);
  });

  it('includes the process defaults, without gauges misnamed _total', async () => {
    const { families } = await scrape();
    expect(families.get('process_cpu_seconds_total')?.type).toBe('counter');
    expect(families.has('nodejs_eventloop_lag_seconds')).toBe(true);
    expect(families.has('nodejs_active_handles')).toBe(true);
    for (const [name, f] of families) {
      if (name.endsWith('_total')) expect(f.type, name).toBe('counter');
      if (f.type === 'counter') expect(name.endsWith('_total'), name).toBe(true);
    }
  });

  it('keeps one registry per app: two apps in one process both scrape', async () => {
    const second = await h.app();
    const a = await scrape(app);
    const b = await scrape(second);
    expect(value(a.families.get('smpp_bind_up'), 'smpp_bind_up', { bind: 'main' })).toBe(1);
    expect(value(b.families.get('smpp_bind_up'), 'smpp_bind_up', { bind: 'main' })).toBe(1);
    // The second app started observing later: its histogram has seen no probe yet.
    const rtt = b.families.get('smpp_enquire_link_rtt_seconds');
    expect(value(rtt, 'smpp_enquire_link_rtt_seconds_count', { trigger: 'manual' })).toBe(undefined);
  });

  it('ends with a newline', async () => {
    const { text } = await scrape();
    expect(text.endsWith('\n')).toBe(true);
  });

  // .ci/run installs promtool; without it the test is reported as skipped, not passed.
  it.skipIf(!existsSync(PROMTOOL))('is accepted by promtool check metrics without warnings', async () => {
    const { text } = await scrape();
    const run = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(`${run.stdout}${run.stderr}`.trim()).toBe('');
    expect(run.status).toBe(0);
  });

  it('adds per-bind RTT histograms and PDU counts with metrics.perBindHistograms', async () => {
    const opted = await h.app({ config: config({ metrics: { enabled: true, perBindHistograms: true } }) });
    expect((await app.inject({ method: 'POST', url: '/binds/main/enquire' })).statusCode).toBe(200);
    const { text, families } = await scrape(opted);
    const rtt = families.get('smpp_bind_enquire_link_rtt_seconds');
    expect(rtt?.type).toBe('histogram');
    const labels = { bind: 'main', trigger: 'manual' };
    expect(value(rtt, 'smpp_bind_enquire_link_rtt_seconds_count', labels)).toBe(1);
    expect(value(rtt, 'smpp_bind_enquire_link_rtt_seconds_bucket', { ...labels, le: '+Inf' })).toBe(1);
    const les = rtt!.samples
      .filter((s) => s.name === 'smpp_bind_enquire_link_rtt_seconds_bucket' && s.labels.bind === 'main')
      .map((s) => s.labels.le);
    expect(les).toEqual([...RTT_BUCKETS_SECONDS.map(String), '+Inf']);
    const sum = value(rtt, 'smpp_bind_enquire_link_rtt_seconds_sum', labels)!;
    expect(sum).toBeCloseTo(h.registry.get('main')!.lastRttMs! / 1000, 9);
    const pdus = families.get('smpp_bind_pdus_total');
    expect(pdus?.type).toBe('counter');
    const main = h.registry.get('main')!.health().counters;
    expect(
      value(pdus, 'smpp_bind_pdus_total', { bind: 'main', direction: 'out', command: 'enquire_link' }),
    ).toBe(main.pdusOut.enquire_link);
    perBindText = text;
  });

  it.skipIf(!existsSync(PROMTOOL))('is accepted by promtool with per-bind histograms on too', () => {
    expect(perBindText).toContain('smpp_bind_enquire_link_rtt_seconds_bucket');
    const run = spawnSync(PROMTOOL, ['check', 'metrics'], { input: perBindText, encoding: 'utf8' });
    expect(`${run.stdout}${run.stderr}`.trim()).toBe('');
    expect(run.status).toBe(0);
  });

  it('is absent when metrics are disabled', async () => {
    const off = await h.app({ config: config({ metrics: { enabled: false } }) });
    const res = await off.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('NOT_FOUND');
  });
});

describe('a bind removed from the registry', () => {
  it('takes its label series out of /metrics', async () => {
    const registry = h.newRegistry();
    registry.add(bindOptions('gone', await closedPort()));
    registry.add(bindOptions('kept', await closedPort()));
    const target = await h.app({
      registry,
      config: { ...config(), metrics: { enabled: true, perBindHistograms: true } },
    });
    const before = await scrape(target);
    expect(value(before.families.get('smpp_bind_up'), 'smpp_bind_up', { bind: 'gone' })).toBe(0);
    await registry.remove('gone');
    const after = await scrape(target);
    expect(after.text).not.toMatch(/bind="gone"/);
    expect(value(after.families.get('smpp_bind_up'), 'smpp_bind_up', { bind: 'kept' })).toBe(0);
  });
});

describe('the metric contract the dashboard and alert rules are written against', () => {
  it('is exactly what /metrics serves (smpp_* families and their types, per-bind histograms on)', async () => {
    const target = await h.app({
      config: { ...config(), metrics: { enabled: true, perBindHistograms: true } },
    });
    await target.inject({ method: 'POST', url: '/binds/main/enquire' });
    const { families } = await scrape(target);
    const served = Object.fromEntries(
      [...families].filter(([name]) => name.startsWith('smpp_')).map(([name, f]) => [name, f.type]),
    );
    // The message path's and the webhook sender's: test/deploy/metric-contract.test.ts (a serve).
    expect(served).toEqual(BIND_METRICS);
  });
});
