/**
 * SIGHUP reloads the config file of a real `serve` process: binds added, changed and removed
 * through the same reconcile as the bind API (API binds kept); a bad file is logged with its key
 * path and the running binds stay untouched.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killAllChildren, startCli } from '../helpers/cli-child.js';

const dirs: string[] = [];
afterEach(() => {
  killAllChildren();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    if (await check()) return;
    if (Date.now() - t0 > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const healthy = (base: string, id: string) => async () =>
  (await fetch(`${base}/binds/${id}/health`)).status === 200;

describe('smpp-bridge serve: SIGHUP reloads the config file (real processes)', () => {
  it('applies a good file (add, retune, remove), keeps API binds, and ignores a bad file', {
    timeout: 90_000,
  }, async () => {
    const sim = startCli(['simulator', '--host', '127.0.0.1', '--port', '0', '--control-port', '0']);
    const smpp = await sim.line(/^SMSC simulator listening on /);
    const dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-reload-'));
    dirs.push(dir);
    const configPath = join(dir, 'config.yaml');
    const bind = (id: string, extra = '') =>
      `  - { id: ${id}, host: 127.0.0.1, port: ${smpp.port}, systemId: ${id}, password: pw-${id}, reconnect: { initialDelayMs: 100, maxDelayMs: 500 }${extra} }`;
    const write = (...lines: string[]) =>
      writeFileSync(
        configPath,
        [
          'http: { host: 127.0.0.1, port: 0 }',
          `store: { path: ${JSON.stringify(join(dir, 'store.db'))} }`,
          'log: { level: info }',
          ...lines,
        ].join('\n'),
      );
    write('binds:', bind('op-a'));
    const serve = startCli(['serve', '--config', configPath]);
    const base = String((await serve.line(/^smpp-bridge listening on /)).url);
    await until('op-a healthy', healthy(base, 'op-a'), 15_000);

    const created = await fetch(`${base}/binds`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'api-1',
        host: '127.0.0.1',
        port: smpp.port,
        systemId: 'api-1',
        password: 'pw-api1',
        reconnect: { initialDelayMs: 100, maxDelayMs: 500 },
      }),
    });
    expect(created.status).toBe(201);
    await until('api-1 healthy', healthy(base, 'api-1'), 15_000);

    // A good file: op-b added, op-a retuned.
    write('binds:', bind('op-a', ', windowSize: 7'), bind('op-b'));
    const reloads = () => serve.lines.filter((l) => /^config reloaded/.test(l.msg)).length;
    serve.process.kill('SIGHUP');
    await until('first reload', () => reloads() === 1, 15_000);
    await until('op-b healthy', healthy(base, 'op-b'), 15_000);
    const opA = (await (await fetch(`${base}/binds/op-a`)).json()) as { config: { windowSize: number } };
    expect(opA.config.windowSize).toBe(7);

    // A bad file: reported with the key path; every running bind stays.
    write('binds:', bind('op-a', ', windowSize: 0'));
    serve.process.kill('SIGHUP');
    const failed = await serve.line(/^config reload failed/);
    expect(failed.msg).toContain('binds[0].windowSize');
    for (const id of ['op-a', 'op-b', 'api-1']) expect(await healthy(base, id)(), id).toBe(true);
    expect(reloads()).toBe(1);

    // Fixed again, op-b dropped: it is removed (unbound); the API bind stays.
    write('binds:', bind('op-a'));
    serve.process.kill('SIGHUP');
    await until('second reload', () => reloads() === 2, 15_000);
    expect((await fetch(`${base}/binds/op-b`)).status).toBe(404);
    const ids = ((await (await fetch(`${base}/binds`)).json()) as { binds: { id: string }[] }).binds.map(
      (b) => b.id,
    );
    expect(ids).toEqual(['api-1', 'op-a']);

    serve.process.kill('SIGTERM');
    expect(await serve.exited).toEqual({ code: 0, signal: null });
    expect(JSON.stringify(serve.lines)).not.toContain('pw-api1');
    sim.process.kill('SIGTERM');
    expect((await sim.exited).code).toBe(0);
  });
});
