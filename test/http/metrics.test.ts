import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app.js';
import { RTT_BUCKETS_SECONDS } from '../../src/http/plugins/metrics.js';
import {
  bindOptions,
  closedPort,
  config,
  type Harness,
  MUTE_SYSTEM_ID,
  startHarness,
  waitBound,
} from './harness.js';

let h: Harness;
let app: App;

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

  it('reports smpp_bind_up and one smpp_bind_status of 1 per bind', async () => {
    const { families } = await scrape();
    const up = families.get('smpp_bind_up');
    expect(up?.type).toBe('gauge');
    expect(value(up, 'smpp_bind_up', { bind: 'main' })).toBe(1);
    expect(value(up, 'smpp_bind_up', { bind: 'down' })).toBe(0);
    const status = families.get('smpp_bind_status');
    for (const [bind, current] of [
      ['main', 'healthy'],
      ['mute', 'degraded'],
      ['down', 'unhealthy'],
    ] as const) {
      for (const s of ['healthy', 'degraded', 'unhealthy', 'stopped']) {
        expect(value(status, 'smpp_bind_status', { bind, status: s }), `${bind} ${s}`).toBe(
          s === current ? 1 : 0,
        );
      }
    }
  });

  it('observes probe round trips in a histogram with sub-millisecond buckets, by bind and trigger', async () => {
    const { families } = await scrape();
    const rtt = families.get('smpp_enquire_link_rtt_seconds');
    expect(rtt?.type).toBe('histogram');
    const labels = { bind: 'main', trigger: 'manual' };
    expect(value(rtt, 'smpp_enquire_link_rtt_seconds_count', labels)).toBe(1);
    const sum = value(rtt, 'smpp_enquire_link_rtt_seconds_sum', labels)!;
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(1);
    const les = rtt!.samples
      .filter((s) => s.name === 'smpp_enquire_link_rtt_seconds_bucket' && s.labels.bind === 'main')
      .map((s) => s.labels.le);
    expect(les).toEqual([...RTT_BUCKETS_SECONDS.map(String), '+Inf']);
    expect(RTT_BUCKETS_SECONDS[0]).toBe(0.0001);
    expect(value(rtt, 'smpp_enquire_link_rtt_seconds_bucket', { ...labels, le: '+Inf' })).toBe(1);
  });

  it('counts failed probes by bind and trigger', async () => {
    const { families } = await scrape();
    const failures = families.get('smpp_probe_failures_total');
    expect(failures?.type).toBe('counter');
    expect(value(failures, 'smpp_probe_failures_total', { bind: 'mute', trigger: 'manual' })).toBe(1);
    expect(value(failures, 'smpp_probe_failures_total', { bind: 'main', trigger: 'manual' })).toBeUndefined();
  });

  it('reads PDU counts, reconnects and the window from the binds at scrape time', async () => {
    const { families } = await scrape();
    const pdus = families.get('smpp_pdus_total');
    expect(pdus?.type).toBe('counter');
    const main = h.registry.get('main')!.health().counters;
    expect(
      value(pdus, 'smpp_pdus_total', { bind: 'main', direction: 'out', command: 'bind_transceiver' }),
    ).toBe(1);
    expect(
      value(pdus, 'smpp_pdus_total', { bind: 'main', direction: 'in', command: 'bind_transceiver_resp' }),
    ).toBe(1);
    expect(value(pdus, 'smpp_pdus_total', { bind: 'main', direction: 'out', command: 'enquire_link' })).toBe(
      main.pdusOut.enquire_link,
    );
    const before = value(pdus, 'smpp_pdus_total', {
      bind: 'main',
      direction: 'out',
      command: 'enquire_link',
    })!;
    await app.inject({ method: 'POST', url: '/binds/main/enquire' });
    const after = (await scrape()).families.get('smpp_pdus_total');
    expect(value(after, 'smpp_pdus_total', { bind: 'main', direction: 'out', command: 'enquire_link' })).toBe(
      before + 1,
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
    expect(value(families.get('smpp_window_capacity'), 'smpp_window_capacity', { bind: 'main' })).toBe(7);
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
    // The second app started observing later: it has seen no probe yet.
    expect(
      value(b.families.get('smpp_probe_failures_total'), 'smpp_probe_failures_total', { bind: 'mute' }),
    ).toBe(undefined);
  });

  it('is accepted by promtool check metrics without warnings (when promtool is installed)', async () => {
    const { text } = await scrape();
    expect(text.endsWith('\n')).toBe(true);
    const promtool = '/usr/bin/promtool';
    if (!existsSync(promtool)) return; // .ci/run installs it; developers may not have it
    const run = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
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
