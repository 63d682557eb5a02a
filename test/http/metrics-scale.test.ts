// The metrics at many binds: series per bind, rendering in slices (the event loop turns during a
// scrape), concurrent scrapes sharing one render, forgetting a removed bind's histogram. The binds
// are registered but never started: no sockets, and every one reads as unhealthy, not started.
import { describe, expect, it } from 'vitest';
import { withBindDefaults } from '../../src/binds/bind-options.js';
import { BindRegistry } from '../../src/binds/registry.js';
import { createMetrics, escapeLabel, SLICE_BINDS } from '../../src/http/plugins/metrics.js';

function registryOf(n: number): BindRegistry {
  const registry = new BindRegistry();
  for (let i = 0; i < n; i++) {
    registry.add(
      withBindDefaults({
        id: `b${String(i).padStart(5, '0')}`,
        host: '127.0.0.1',
        port: 9,
        systemId: 'scale',
        password: 'scale',
      }),
    );
  }
  return registry;
}

function samples(text: string): string[] {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

const probe = (bindId: string, rttMs: number) =>
  ({
    bindId,
    ok: true,
    rttMs,
    sequenceNumber: 2,
    commandStatus: 0,
    at: Date.now(),
    trigger: 'keepalive',
  }) as const;

describe('metrics at many binds', () => {
  const n = SLICE_BINDS * 2 + 7;

  it('keeps the series to at most 6 per bind plus the aggregates', async () => {
    const registry = registryOf(n);
    const metrics = createMetrics(registry, { defaultMetrics: false });
    const lines = samples(await metrics.render());
    const perBind = lines.filter((l) => l.includes('bind="'));
    // Never probed: up, status, reconnects, probe failures, window in flight (no last RTT yet).
    expect(perBind.length).toBe(5 * n);
    expect(lines.length - perBind.length).toBeLessThan(100);
    expect(lines).toContain(`smpp_binds{status="unhealthy"} ${n}`);
    expect(lines).toContain('smpp_bind_status{bind="b00000",status="unhealthy"} 1');
    metrics.close();
  });

  it('lets the event loop turn between slices of binds during one scrape', async () => {
    const registry = registryOf(n);
    const metrics = createMetrics(registry, { defaultMetrics: false });
    let turned = false;
    const rendering = metrics.render().then((text) => ({ text, turnedBefore: turned }));
    setImmediate(() => {
      turned = true;
    });
    const { text, turnedBefore } = await rendering;
    expect(turnedBefore).toBe(true);
    // Every bind made it into the one exposition, each family once.
    expect(samples(text).filter((l) => l.startsWith('smpp_bind_up{')).length).toBe(n);
    expect(text.match(/^# TYPE smpp_bind_up /gm)?.length).toBe(1);
    metrics.close();
  });

  it('shares one render between scrapes that arrive while it runs', async () => {
    const registry = registryOf(n);
    const metrics = createMetrics(registry, { defaultMetrics: false });
    const a = metrics.render();
    const b = metrics.render();
    expect(b).toBe(a);
    await a;
    expect(metrics.render()).not.toBe(a);
    metrics.close();
  });

  it('forgets the per-bind histogram of a removed bind', async () => {
    const registry = registryOf(2);
    const metrics = createMetrics(registry, { defaultMetrics: false, perBindHistograms: true });
    registry.emit('probe', probe('b00000', 0.3));
    registry.emit('probe', probe('b00001', 3));
    let text = await metrics.render();
    expect(text).toContain('smpp_bind_enquire_link_rtt_seconds_count{bind="b00000",trigger="keepalive"} 1');
    expect(text).toContain(
      'smpp_bind_enquire_link_rtt_seconds_bucket{bind="b00001",trigger="keepalive",le="0.0025"} 0',
    );
    expect(text).toContain(
      'smpp_bind_enquire_link_rtt_seconds_bucket{bind="b00001",trigger="keepalive",le="0.005"} 1',
    );
    expect(text).toContain('smpp_enquire_link_rtt_seconds_count{trigger="keepalive"} 2');
    metrics.forgetBind('b00000');
    text = await metrics.render();
    expect(text).not.toContain('smpp_bind_enquire_link_rtt_seconds_count{bind="b00000"');
    expect(text).toContain('smpp_bind_enquire_link_rtt_seconds_count{bind="b00001",trigger="keepalive"} 1');
    metrics.close();
  });

  it('escapes label values as the text format requires', () => {
    expect(escapeLabel('plain-id_1.2')).toBe('plain-id_1.2');
    expect(escapeLabel('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
  });
});
