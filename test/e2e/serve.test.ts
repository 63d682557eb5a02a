/**
 * The service as a user runs it: `smpp-bridge serve` as a real process against the simulator
 * started separately, driven only through HTTP (ours and the simulator's control API) and
 * signals. Also demo mode: `serve` with no config at all.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type CliChild, killAllChildren, startCli } from '../helpers/cli-child.js';

const dirs: string[] = [];
afterEach(() => {
  killAllChildren();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function getJson(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, init);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Polls until `check` holds; returns how long it took. Fails after `timeoutMs`. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await check()) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function serveUrl(child: CliChild): Promise<string> {
  const line = await child.line(/^smpp-bridge listening on /);
  return String(line.url);
}

const INTERVAL_MS = 1_000;
const TIMEOUT_MS = 300;
const MAX_MISSED = 2;
/** The documented bound: interval + maxMissedProbes × timeout, plus one health sweep (1 s) and slack. */
const DETECTION_BOUND_MS = INTERVAL_MS + MAX_MISSED * TIMEOUT_MS;

describe('smpp-bridge serve (real processes)', () => {
  it('turns 503 within the detection bound when the SMSC goes silent, recovers, and unbinds on SIGTERM', {
    timeout: 60_000,
  }, async () => {
    const sim = startCli(['simulator', '--host', '127.0.0.1', '--port', '0', '--control-port', '0']);
    const smpp = await sim.line(/^SMSC simulator listening on /);
    const control = String((await sim.line(/^control API listening/)).url);

    const dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-e2e-'));
    dirs.push(dir);
    const configPath = join(dir, 'config.yaml');
    writeFileSync(
      configPath,
      [
        'http: { host: 127.0.0.1, port: 0 }',
        `store: { path: ${JSON.stringify(join(dir, 'store.db'))} }`,
        'log: { level: info }',
        `defaults: { enquireLinkIntervalMs: ${INTERVAL_MS}, enquireLinkTimeoutMs: ${TIMEOUT_MS}, maxMissedProbes: ${MAX_MISSED} }`,
        'binds:',
        '  - id: op-a',
        '    host: 127.0.0.1',
        `    port: ${smpp.port}`,
        '    systemId: acme',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the config file's own ${VAR} syntax
        '    password: ${OP_A_PASSWORD}',
        '    bindType: transceiver',
        '    bindTimeoutMs: 1000',
        '    reconnect: { initialDelayMs: 100, maxDelayMs: 500 }',
      ].join('\n'),
    );
    const serve = startCli(['serve', '--config', configPath], { OP_A_PASSWORD: 's3cret' });
    const base = await serveUrl(serve);
    const health = `${base}/binds/op-a/health`;

    await until('bind healthy', async () => (await fetch(health)).status === 200, 15_000);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);

    // The SMSC keeps TCP open and answers nothing.
    const fault = await getJson(`${control}/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fault: { kind: 'blackhole' } }),
    });
    expect(fault.status).toBeLessThan(300);
    const detectedMs = await until('health 503', async () => (await fetch(health)).status === 503, 10_000);
    expect(detectedMs).toBeLessThanOrEqual(DETECTION_BOUND_MS + 1_500);
    const unhealthy = await getJson(health);
    expect(unhealthy.body.status).toBe('unhealthy');
    expect((await fetch(`${base}/readyz`)).status).toBe(503);

    await fetch(`${control}/faults`, { method: 'DELETE' });
    await until('health back to 200', async () => (await fetch(health)).status === 200, 10_000);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);

    const before = (await getJson(`${control}/counters`)).body as { in: Record<string, number> };
    serve.process.kill('SIGTERM');
    expect(await serve.exited).toEqual({ code: 0, signal: null });
    const after = (await getJson(`${control}/counters`)).body as { in: Record<string, number> };
    expect((after.in.unbind ?? 0) - (before.in.unbind ?? 0)).toBe(1);
    // The password never reached the log.
    expect(JSON.stringify(serve.lines)).not.toContain('s3cret');

    sim.process.kill('SIGTERM');
    expect((await sim.exited).code).toBe(0);
  });

  it('with no config at all runs demo mode: bind demo answers 200 within a few seconds', {
    timeout: 30_000,
  }, async () => {
    const serve = startCli(['serve'], { PORT: '0', HOST: '127.0.0.1', SMPP_BRIDGE_CONFIG: '' });
    const base = await serveUrl(serve);
    expect(serve.lines.some((l) => /^demo mode/.test(l.msg))).toBe(true);
    const ms = await until(
      'demo healthy',
      async () => (await fetch(`${base}/binds/demo/health`)).status === 200,
      5_000,
    );
    expect(ms).toBeLessThan(5_000);
    const probe = await getJson(`${base}/binds/demo/enquire`, { method: 'POST' });
    expect(probe.status).toBe(200);
    expect(probe.body.ok).toBe(true);
    serve.process.kill('SIGINT');
    expect(await serve.exited).toEqual({ code: 0, signal: null });
  });

  it('exits 2 naming the bad key when the config is wrong', { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-e2e-'));
    dirs.push(dir);
    const configPath = join(dir, 'bad.yaml');
    writeFileSync(
      configPath,
      'binds:\n  - id: x\n    host: h\n    port: nope\n    systemId: a\n    password: b\n',
    );
    const serve = startCli(['serve', '--config', configPath]);
    expect((await serve.exited).code).toBe(2);
    expect(serve.stderr()).toContain('binds[0].port');
  });
});
