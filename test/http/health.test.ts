import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app.js';
import { bindOptions, closedPort, type Harness, sleep, startHarness, waitBound, waitFor } from './harness.js';

let h: Harness;
let app: App;

beforeAll(async () => {
  h = await startHarness();
  h.registry.add(bindOptions('main', h.port, { minProbeIntervalMs: 0 }));
  // Any round trip above 0 ms counts as high latency: degraded after its first probe.
  h.registry.add(bindOptions('slow', h.port, { minProbeIntervalMs: 0, degradedLatencyMs: 0 }));
  h.registry.add(bindOptions('fresh', h.port));
  h.registry.add(bindOptions('down', await closedPort()));
  h.registry.add(bindOptions('flappy', h.port));
  h.registry.startAll();
  for (const id of ['main', 'slow', 'fresh', 'flappy']) await waitBound(h.registry.get(id)!);
  await h.registry.get('main')!.probe({ trigger: 'manual' });
  await h.registry.get('slow')!.probe({ trigger: 'manual' });
  app = await h.app();
});

afterAll(async () => {
  await h?.close();
});

interface Check {
  id: string;
  status: string;
  code: string;
  reason: string;
  since: string;
  state: string;
  lastRttMs: number | null;
  aliveAgeMs: number | null;
  passing: boolean;
  failedCheck: string | null;
  failedReason: string | null;
}

async function check(url: string): Promise<{ status: number; body: Check }> {
  const res = await app.inject({ url });
  return { status: res.statusCode, body: res.json() as Check };
}

describe('GET /binds/:id/health', () => {
  it('answers 200 with the health check of a healthy bind', async () => {
    const { status, body } = await check('/binds/main/health');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      id: 'main',
      status: 'healthy',
      code: 'OK',
      state: 'bound',
      passing: true,
      failedCheck: null,
      failedReason: null,
    });
    expect(body.lastRttMs).toBeGreaterThan(0);
    expect(body.aliveAgeMs).toBeGreaterThanOrEqual(0);
    expect(Object.keys(body).sort()).toEqual(
      [
        'aliveAgeMs',
        'code',
        'failedCheck',
        'failedReason',
        'id',
        'lastRttMs',
        'passing',
        'reason',
        'since',
        'state',
        'status',
      ].sort(),
    );
  });

  it('with ?detail=true adds the full health model under `health`', async () => {
    const res = await app.inject({ url: '/binds/main/health?detail=true' });
    expect(res.statusCode).toBe(200);
    const body = res.json() as Check & { health: Record<string, unknown> & { rtt: { count: number } } };
    expect(body.passing).toBe(true);
    expect(body.health).toMatchObject({
      id: 'main',
      status: 'healthy',
      bindType: 'transceiver',
      sessionState: 'bound_trx',
      lastProbe: { ok: true },
      counters: { binds: 1 },
      window: { used: 0 },
      throttled: false,
    });
    expect(body.health.rtt.count).toBeGreaterThan(0);
    // Without it, readiness probes get the cheap check only.
    expect((await check('/binds/main/health')).body).not.toHaveProperty('health');
  });

  it('answers 503 for an unhealthy bind and names the status check', async () => {
    const { status, body } = await check('/binds/down/health');
    expect(status).toBe(503);
    expect(body).toMatchObject({
      status: 'unhealthy',
      code: 'NOT_BOUND',
      passing: false,
      failedCheck: 'status',
      aliveAgeMs: null,
      lastRttMs: null,
    });
    expect(body.failedReason).toMatch(/^unhealthy: /);
  });

  it('answers 200 for a degraded bind, and 503 naming the strict check with strict=true', async () => {
    const loose = await check('/binds/slow/health');
    expect(loose.status).toBe(200);
    expect(loose.body).toMatchObject({ status: 'degraded', code: 'HIGH_LATENCY', passing: true });
    expect((await check('/binds/slow/health?strict=false')).status).toBe(200);
    const strict = await check('/binds/slow/health?strict=true');
    expect(strict.status).toBe(503);
    expect(strict.body).toMatchObject({ status: 'degraded', passing: false, failedCheck: 'strict' });
    expect(strict.body.failedReason).toContain('round trip');
  });

  it('strict=true passes a healthy bind', async () => {
    expect((await check('/binds/main/health?strict=true')).status).toBe(200);
  });

  it('maxLatencyMs fails when the last round trip took longer', async () => {
    const { body: before } = await check('/binds/main/health');
    const ok = await check(`/binds/main/health?maxLatencyMs=${Math.ceil(before.lastRttMs!) + 1000}`);
    expect(ok.status).toBe(200);
    const failed = await check('/binds/main/health?maxLatencyMs=0');
    expect(failed.status).toBe(503);
    expect(failed.body).toMatchObject({ status: 'healthy', passing: false, failedCheck: 'maxLatencyMs' });
    expect(failed.body.failedReason).toMatch(/> maxLatencyMs 0$/);
  });

  it('maxLatencyMs passes while no probe has been answered yet', async () => {
    const { status, body } = await check('/binds/fresh/health?maxLatencyMs=0');
    expect(body.lastRttMs).toBeNull();
    expect(status).toBe(200);
  });

  it('maxAgeMs fails when the last proof of life is older', async () => {
    await sleep(30);
    const failed = await check('/binds/main/health?maxAgeMs=5');
    expect(failed.status).toBe(503);
    expect(failed.body).toMatchObject({ passing: false, failedCheck: 'maxAgeMs' });
    expect(failed.body.aliveAgeMs).toBeGreaterThan(5);
    expect(failed.body.failedReason).toMatch(/^last proof of life \d+ ms ago > maxAgeMs 5$/);
    expect((await check('/binds/main/health?maxAgeMs=60000')).status).toBe(200);
  });

  it('an answered probe renews the proof of life', async () => {
    // Lower bounds only (a loaded machine may take long between two requests): the proof is at
    // least 1 s old, and after a probe it is younger than it was before the probe.
    await sleep(1_000);
    const before = await check('/binds/main/health?maxAgeMs=900');
    expect(before.status).toBe(503);
    const ageBefore = before.body.aliveAgeMs as number;
    expect(ageBefore).toBeGreaterThan(900);
    await app.inject({ method: 'POST', url: '/binds/main/enquire' });
    const after = await check(`/binds/main/health?maxAgeMs=${Math.floor(ageBefore)}`);
    expect(after.status).toBe(200);
    expect(after.body.aliveAgeMs).toBeLessThan(ageBefore);
  });

  it('reports the first failing check when several fail', async () => {
    const { status, body } = await check('/binds/down/health?strict=true&maxLatencyMs=0&maxAgeMs=0');
    expect(status).toBe(503);
    expect(body.failedCheck).toBe('status');
    const latency = await check('/binds/slow/health?maxLatencyMs=0&maxAgeMs=0');
    expect(latency.body.failedCheck).toBe('maxLatencyMs');
  });

  it('keeps since until the status changes, then shows the transition time', async () => {
    const first = await check('/binds/flappy/health');
    await sleep(5);
    const again = await check('/binds/flappy/health');
    expect(again.body.since).toBe(first.body.since);
    const bind = h.registry.get('flappy')!;
    const transition = new Promise<{ at: string }>((resolve) => bind.once('transition', resolve));
    await bind.stop();
    const t = await transition;
    const stopped = await check('/binds/flappy/health');
    expect(stopped.status).toBe(503);
    expect(stopped.body).toMatchObject({
      status: 'stopped',
      code: 'STOPPED',
      failedCheck: 'status',
      since: t.at,
    });
    expect(Date.parse(stopped.body.since)).toBeGreaterThanOrEqual(Date.parse(first.body.since));
  });

  it('answers 404 BIND_NOT_FOUND for an unknown id', async () => {
    const res = await app.inject({ url: '/binds/nope/health' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'BIND_NOT_FOUND', details: { bindId: 'nope' } });
  });

  it.each([
    ['maxAgeMs=-1', 'querystring/maxAgeMs', 'must be >= 0'],
    ['maxLatencyMs=abc', 'querystring/maxLatencyMs', 'must be a finite decimal number'],
    // Ajv's coercion alone read a blank as 0 and took hex, Infinity and overflowing exponents.
    ['maxLatencyMs=%20', 'querystring/maxLatencyMs', 'must be a finite decimal number'],
    ['maxLatencyMs=', 'querystring/maxLatencyMs', 'must be a finite decimal number'],
    ['maxLatencyMs=0x10', 'querystring/maxLatencyMs', 'must be a finite decimal number'],
    ['maxAgeMs=Infinity', 'querystring/maxAgeMs', 'must be a finite decimal number'],
    ['maxAgeMs=1e400', 'querystring/maxAgeMs', 'must be a finite decimal number'],
    ['maxAgeMs=1e3', 'querystring/maxAgeMs', 'must be a finite decimal number'],
    [`maxAgeMs=1${'0'.repeat(400)}`, 'querystring/maxAgeMs', 'must be a finite decimal number'],
    ['maxAgeMs=5&maxAgeMs=0x5', 'querystring/maxAgeMs', 'must be a finite decimal number'],
    ['strict=maybe', 'querystring/strict', 'must be boolean'],
    ['stirct=true', 'querystring/stirct', 'is not an allowed property'],
  ])('refuses ?%s with 400 VALIDATION_FAILED naming the field', async (query, field, message) => {
    const res = await app.inject({ url: `/binds/main/health?${query}` });
    expect(res.statusCode).toBe(400);
    const body = res.json() as { code: string; details: { errors: { field: string; message: string }[] } };
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.details.errors).toContainEqual({ field, message });
  });

  it.each(['maxLatencyMs=250', 'maxLatencyMs=250.5', 'maxAgeMs=0', 'maxAgeMs=60000'])(
    'accepts the decimal number ?%s',
    async (query) => {
      const res = await app.inject({ url: `/binds/main/health?${query}` });
      expect(res.json().code).not.toBe('VALIDATION_FAILED');
    },
  );

  it('answers 503 with code STANDBY for a bind another replica runs, and /readyz does not count it', async () => {
    const registry = h.newRegistry();
    const bind = registry.add(bindOptions('mine', h.port));
    registry.add(bindOptions('theirs', h.port), { standby: { owner: 'replica-b' } });
    registry.startAll();
    await waitBound(bind);
    const own = await h.app({ registry });
    const res = await own.inject({ url: '/binds/theirs/health' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({
      status: 'standby',
      code: 'STANDBY',
      reason: 'run by replica-b',
      state: 'standby',
      passing: false,
      failedCheck: 'status',
    });
    const ready = await own.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ ready: true, total: 1, healthy: 1 });
  });

  it('follows a bind that comes back: 503 while down, 200 once bound again', async () => {
    const registry = h.newRegistry();
    const bind = registry.add(bindOptions('again', h.port));
    const own = await h.app({ registry });
    expect((await own.inject({ url: '/binds/again/health' })).statusCode).toBe(503);
    registry.startAll();
    await waitBound(bind);
    await waitFor('health 200', () => bind.status === 'healthy');
    expect((await own.inject({ url: '/binds/again/health' })).statusCode).toBe(200);
  });
});
