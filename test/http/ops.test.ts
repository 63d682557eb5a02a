import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BindRegistry, ReadinessPolicy } from '../../src/binds/registry.js';
import type { App } from '../../src/http/app.js';
import { bindOptions, closedPort, config, type Harness, sleep, startHarness, waitBound } from './harness.js';

let h: Harness;
/** main and backup bound, down not. */
let mixed: BindRegistry;

beforeAll(async () => {
  h = await startHarness();
  mixed = h.registry;
  mixed.add(bindOptions('main', h.port));
  mixed.add(bindOptions('backup', h.port));
  mixed.add(bindOptions('down', await closedPort()));
  mixed.startAll();
  await waitBound(mixed.get('main')!);
  await waitBound(mixed.get('backup')!);
});

afterAll(async () => {
  await h?.close();
});

interface Readiness {
  ready: boolean;
  draining: boolean;
  policy: string;
  strict: boolean;
  required: number;
  healthy: number;
  total: number;
  binds: { id: string; status: string; reason: string }[];
}

async function readyz(app: App, query = ''): Promise<{ status: number; body: Readiness }> {
  const res = await app.inject({ url: `/readyz${query}` });
  return { status: res.statusCode, body: res.json() as Readiness };
}

describe('GET /readyz', () => {
  it.each<[ReadinessPolicy, number, number, boolean]>([
    ['all', 1, 3, false],
    ['any', 1, 1, true],
    ['quorum', 1, 2, true],
    ['atLeast', 2, 2, true],
    ['atLeast', 3, 3, false],
  ])(
    'policy %s (minHealthy %i) with 2 of 3 binds healthy: required %i, ready %s',
    async (policy, minHealthy, required, ready) => {
      const app = await h.app({ registry: mixed, config: config({ readiness: { policy, minHealthy } }) });
      const { status, body } = await readyz(app);
      expect(status).toBe(ready ? 200 : 503);
      expect(body).toMatchObject({
        ready,
        draining: false,
        policy,
        strict: false,
        required,
        healthy: 2,
        total: 3,
      });
      expect(body.binds.map((b) => [b.id, b.status])).toEqual([
        ['main', 'healthy'],
        ['backup', 'healthy'],
        ['down', 'unhealthy'],
      ]);
    },
  );

  it('strict=true counts degraded binds as failing', async () => {
    const registry = h.newRegistry();
    registry.add(bindOptions('ok', h.port));
    const slow = registry.add(bindOptions('slow', h.port, { degradedLatencyMs: 0 }));
    registry.startAll();
    await waitBound(registry.get('ok')!);
    await waitBound(slow);
    await slow.probe({ trigger: 'manual' });
    const app = await h.app({ registry });
    const loose = await readyz(app);
    expect(loose.status).toBe(200);
    expect(loose.body.binds.find((b) => b.id === 'slow')?.status).toBe('degraded');
    const strict = await readyz(app, '?strict=true');
    expect(strict.status).toBe(503);
    expect(strict.body).toMatchObject({ ready: false, strict: true, healthy: 1, required: 2 });
  });

  it('fails at once, reporting draining, once the registry drains', async () => {
    const registry = h.newRegistry();
    const bind = registry.add(bindOptions('solo', h.port));
    registry.startAll();
    await waitBound(bind);
    const app = await h.app({ registry });
    expect((await readyz(app)).status).toBe(200);
    registry.drain();
    const { status, body } = await readyz(app);
    expect(status).toBe(503);
    expect(body).toMatchObject({ ready: false, draining: true, healthy: 1 });
  });

  it('refuses a malformed strict flag with 400 VALIDATION_FAILED', async () => {
    const app = await h.app({ registry: mixed });
    const res = await app.inject({ url: '/readyz?strict=perhaps' });
    expect(res.statusCode).toBe(400);
    expect(res.json().details.errors).toContainEqual({
      field: 'querystring/strict',
      message: 'must be boolean',
    });
  });
});

describe('GET /livez', () => {
  it('answers 200 with the event-loop delay while the loop runs', async () => {
    const app = await h.app({ registry: mixed });
    const res = await app.inject({ url: '/livez' });
    expect(res.statusCode).toBe(200);
    const body = res.json() as {
      status: string;
      eventLoopDelayMs: Record<string, number>;
      uptimeSeconds: number;
    };
    expect(body.status).toBe('ok');
    expect(Object.keys(body.eventLoopDelayMs).sort()).toEqual(['max', 'mean', 'p50', 'p99']);
    for (const v of Object.values(body.eventLoopDelayMs)) expect(v).toBeGreaterThanOrEqual(0);
    expect(body.uptimeSeconds).toBeGreaterThanOrEqual(0);
  });

  it('answers 503 after the loop stalled beyond the threshold, and 200 again once it has passed', async () => {
    // Margins wide enough for a loaded machine (two suites at once on two cores, the Node 24 half of
    // CI beside another run): a 900 ms stall against a 400 ms threshold, windows of 3 s, so the stall
    // stays visible 3–6 s while the check polls for at most 2.5 s; it clears after two windows.
    const app = await h.app({ registry: mixed, maxEventLoopDelayMs: 400, loopWindowMs: 3_000 });
    await sleep(50);
    const until = Date.now() + 900;
    while (Date.now() < until) {
      // a synchronous stall: nothing else runs
    }
    // The histogram records the stall on its next sampling tick after it (late on a loaded machine).
    let stalled = await app.inject({ url: '/livez' });
    const stallDeadline = Date.now() + 2_500;
    while (stalled.statusCode !== 503 && Date.now() < stallDeadline) {
      await sleep(50);
      stalled = await app.inject({ url: '/livez' });
    }
    expect(stalled.statusCode).toBe(503);
    const body = stalled.json() as {
      status: string;
      eventLoopDelayMs: { max: number };
      maxEventLoopDelayMs: number;
    };
    expect(body.status).toBe('stalled');
    expect(body.maxEventLoopDelayMs).toBe(400);
    expect(body.eventLoopDelayMs.max).toBeGreaterThan(400);
    // The stall leaves the window it fell in and then the previous-window slot: two windows.
    const deadline = Date.now() + 15_000;
    let recovered = await app.inject({ url: '/livez' });
    while (recovered.statusCode !== 200 && Date.now() < deadline) {
      await sleep(100);
      recovered = await app.inject({ url: '/livez' });
    }
    expect(recovered.statusCode).toBe(200);
    expect(recovered.json().status).toBe('ok');
  });
});
