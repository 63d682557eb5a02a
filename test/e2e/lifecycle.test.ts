/**
 * `smpp-bridge serve` as a real process, at the edges of its life: a start that cannot happen
 * (port taken, empty config) exits with a clear line and closes what it started; a SIGTERM
 * finishes within shutdown.httpDrainTimeoutMs + shutdown.unbindTimeoutMs plus slack whatever
 * HTTP clients and SMSCs do, HTTP first, then the binds; and no log line shows a token.
 * Real time: lower bounds are asserted exactly, upper bounds generously.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type CliChild, killAllChildren, startCli } from '../helpers/cli-child.js';
import { type StartedSimulator, startSimulator } from '../helpers/simulator.js';

const dirs: string[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  killAllChildren();
  for (const fn of cleanups.splice(0).reverse()) await fn();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function writeConfig(lines: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-lifecycle-'));
  dirs.push(dir);
  const path = join(dir, 'config.yaml');
  // Each service its own message store (the default ./data/ would be shared by parallel runs);
  // a file with no keys stays without one.
  const store = lines.some((line) => /^[a-z]/.test(line))
    ? [`store: { path: ${JSON.stringify(join(dir, 'store.db'))} }`]
    : [];
  writeFileSync(path, [...lines, ...store].join('\n'));
  return path;
}

/** A port something else listens on for the rest of the test. */
async function busyPort(): Promise<number> {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as net.AddressInfo).port;
}

async function simulator(): Promise<StartedSimulator> {
  const sim = await startSimulator();
  cleanups.push(() => sim.close());
  return sim;
}

const listening = async (child: CliChild): Promise<string> =>
  String((await child.line(/^smpp-bridge listening on /)).url);

describe('serve cannot start', () => {
  it('exits 1 with one line when the HTTP port is taken, closing the embedded simulator it started', {
    timeout: 60_000,
  }, async () => {
    const port = await busyPort();
    // Demo mode: the embedded simulator starts before the HTTP listener fails.
    const serve = startCli(['serve'], { HOST: '127.0.0.1', PORT: String(port), SMPP_BRIDGE_CONFIG: '' });
    await serve.line(/^embedded SMSC simulator listening/);
    const exit = await serve.exited;
    expect(exit).toEqual({ code: 1, signal: null });
    expect(serve.stderr().trim()).toBe(
      `smpp-bridge: cannot start: the HTTP API cannot listen on 127.0.0.1:${port}: address already in use (EADDRINUSE)`,
    );
  });

  it('exits 1 when the embedded simulator port is taken', { timeout: 60_000 }, async () => {
    const port = await busyPort();
    const config = writeConfig([
      'http: { host: 127.0.0.1, port: 0 }',
      `simulator: { enabled: true, host: 127.0.0.1, port: ${port} }`,
      'binds: []',
    ]);
    const serve = startCli(['serve', '--config', config]);
    expect(await serve.exited).toEqual({ code: 1, signal: null });
    expect(serve.stderr().trim()).toBe(
      `smpp-bridge: cannot start: the embedded simulator cannot listen on 127.0.0.1:${port}: address already in use (EADDRINUSE)`,
    );
  });

  it('exits 2 on a config file with only comments, before anything starts', { timeout: 60_000 }, async () => {
    // Written as is: writeConfig's store line would make the file non-empty.
    const config = join(mkdtempSync(join(tmpdir(), 'smpp-bridge-lifecycle-')), 'config.yaml');
    dirs.push(dirname(config));
    writeFileSync(config, ['# nothing yet', '---', ''].join('\n'));
    const serve = startCli(['serve', '--config', config]);
    expect(await serve.exited).toEqual({ code: 2, signal: null });
    expect(serve.stderr()).toMatch(/the config file is empty/);
    expect(serve.lines).toEqual([]);
  });
});

describe('serve on SIGTERM', () => {
  it('closes HTTP first (cutting a slow client after the drain), then abandons binds a silent SMSC keeps waiting, within the shutdown bounds', {
    timeout: 60_000,
  }, async () => {
    const sim = await simulator();
    const DRAIN_MS = 500;
    const UNBIND_MS = 1_500;
    const config = writeConfig([
      'http: { host: 127.0.0.1, port: 0, requestTimeoutMs: 60000 }',
      'log: { level: debug }',
      `shutdown: { httpDrainTimeoutMs: ${DRAIN_MS}, unbindTimeoutMs: ${UNBIND_MS} }`,
      // Each bind alone would wait 10 s for its unbind_resp.
      'defaults: { unbindTimeoutMs: 10000, reconnect: { initialDelayMs: 100, maxDelayMs: 500 } }',
      'binds:',
      ...['b1', 'b2', 'b3'].map(
        (id) => `  - { id: ${id}, host: 127.0.0.1, port: ${sim.port}, systemId: ${id}, password: pw }`,
      ),
    ]);
    const serve = startCli(['serve', '--config', config]);
    const base = await listening(serve);
    for (const id of ['b1', 'b2', 'b3']) await serve.line(/^bound as/, 60_000).then(() => id);
    for (let i = 0; i < 150 && (await fetch(`${base}/readyz`)).status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    sim.sim.setFault({ kind: 'blackhole' });

    // A client that sends headers, then one body byte every 100 ms.
    const { port } = new URL(base);
    const slow = net.connect(Number(port), '127.0.0.1');
    cleanups.push(() => {
      slow.destroy();
    });
    slow.on('error', () => {});
    await new Promise((resolve) => slow.once('connect', resolve));
    slow.write(
      'POST /binds/b1/enquire HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n',
    );
    const dribble = setInterval(() => slow.write(' '), 100);
    cleanups.push(() => clearInterval(dribble));
    const slowClosed = new Promise<void>((resolve) => slow.once('close', () => resolve()));
    await new Promise((r) => setTimeout(r, 300));

    const t0 = performance.now();
    serve.process.kill('SIGTERM');
    const exit = await serve.exited;
    const elapsedMs = performance.now() - t0;
    await slowClosed;
    expect(exit).toEqual({ code: 0, signal: null });
    // It waited for the drain and for the unbinds (lower bounds hold whatever the load)...
    expect(elapsedMs).toBeGreaterThanOrEqual(DRAIN_MS + UNBIND_MS - 100);
    // ...but not for the binds' own 10 s unbind timeout, nor for the slow client.
    expect(elapsedMs).toBeLessThan(9_000);

    const order = serve.lines.map((l) => l.msg);
    const at = (re: RegExp) => order.findIndex((m) => re.test(m));
    expect(at(/^SIGTERM received/)).toBeGreaterThanOrEqual(0);
    expect(at(/HTTP requests still in flight after 500 ms were cut/)).toBeGreaterThan(
      at(/^SIGTERM received/),
    );
    // (Since the message path: 'HTTP closed; the outbound sender stops…', then 'HTTP closed; unbinding'.)
    expect(at(/^HTTP closed; the outbound sender stops/)).toBeGreaterThan(at(/were cut/));
    expect(at(/^HTTP closed; unbinding$/)).toBeGreaterThan(at(/^HTTP closed; the outbound sender stops/));
    expect(at(/3 binds did not unbind within 1500 ms/)).toBeGreaterThan(at(/^HTTP closed; unbinding$/));
    expect(at(/^stopped$/)).toBeGreaterThan(at(/did not unbind/));
  });

  it('never writes a configured token or a query-string token to the log', { timeout: 60_000 }, async () => {
    const TOKEN = 'e2e-secret-token-42';
    const config = writeConfig([
      'http: { host: 127.0.0.1, port: 0 }',
      'log: { level: debug }',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the config file's own ${VAR} syntax
      'auth: { tokens: ["${API_TOKEN}"] }',
      'binds: []',
    ]);
    const serve = startCli(['serve', '--config', config], { API_TOKEN: TOKEN });
    const base = await listening(serve);
    const refused = await fetch(`${base}/binds/b1/enquire?access_token=${TOKEN}`, { method: 'POST' });
    expect(refused.status).toBe(401);
    await fetch(`${base}/nope?token=${TOKEN}&x=1`);
    await fetch(`${base}/binds?signature=${TOKEN}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    // An unknown query key is refused (400), and its value is redacted from the access log all the same.
    await serve.line(/^GET \/binds\?signature=\[redacted\] 400/);
    serve.process.kill('SIGTERM');
    expect((await serve.exited).code).toBe(0);
    const log = JSON.stringify(serve.lines);
    expect(serve.lines.some((l) => l.url === '/binds/b1/enquire?access_token=[redacted]')).toBe(true);
    expect(log).not.toContain(TOKEN);
  });
});
