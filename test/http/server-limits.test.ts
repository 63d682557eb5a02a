/**
 * The limits that keep slow or greedy HTTP clients from holding the service (config `http.*`):
 * whole-request and headers timeouts, the keep-alive timeout, the connection cap, and a
 * shutdown that closes idle connections at once and cuts the busy ones after a grace. Driven
 * with raw node:net clients, as a slow-loris attacker would. Timeouts are configured small;
 * real time is asserted with lower bounds, upper bounds are generous.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BindRegistry } from '../../src/binds/registry.js';
import { type App, buildApp, closeApp, type HttpServerLimits } from '../../src/http/app.js';
import { config } from './harness.js';

const TOKEN = 'sl0w-l0r1s-t0ken';
const apps: App[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const app of apps.splice(0)) await app.close();
});

async function start(
  limits: Partial<HttpServerLimits>,
  tokens: string[] = [],
): Promise<{ app: App; port: number }> {
  const app = await buildApp({
    registry: new BindRegistry(),
    config: config({
      auth: { tokens, protectReads: false },
      http: { bodyLimitBytes: 65_536, ...limits },
    }),
  });
  apps.push(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as net.AddressInfo;
  return { app, port };
}

interface Client {
  socket: net.Socket;
  received: () => string;
  /** Resolves with the ms from connect to close (by either side). */
  closed: Promise<number>;
}

async function connect(port: number): Promise<Client> {
  const socket = net.connect(port, '127.0.0.1');
  sockets.push(socket);
  let data = '';
  socket.on('data', (chunk: Buffer) => {
    data += chunk.toString('latin1');
  });
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const t0 = performance.now();
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => resolve(performance.now() - t0)),
  );
  return { socket, received: () => data, closed };
}

/** Writes `text` one byte every `everyMs` until the socket closes; returns how many bytes went out. */
function dribble(socket: net.Socket, text: string, everyMs: number): () => number {
  let sent = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || sent >= text.length) {
      clearInterval(timer);
      return;
    }
    socket.write(text[sent++] ?? '');
  }, everyMs);
  socket.once('close', () => clearInterval(timer));
  return () => sent;
}

const slowPost = (auth: string) =>
  `POST /binds/none/rebind HTTP/1.1\r\nhost: x\r\n${auth}content-type: application/json\r\ncontent-length: 1000\r\n\r\n`;

describe('slow clients', () => {
  for (const withToken of [false, true]) {
    it(`closes a client that sends its body one byte at a time after requestTimeoutMs (${withToken ? 'with' : 'without'} a token)`, {
      timeout: 30_000,
    }, async () => {
      const { port } = await start({ requestTimeoutMs: 800, headersTimeoutMs: 400 }, [TOKEN]);
      const client = await connect(port);
      client.socket.write(slowPost(withToken ? `authorization: Bearer ${TOKEN}\r\n` : ''));
      const sent = dribble(client.socket, '{'.padEnd(1000, ' '), 50);
      const elapsedMs = await client.closed;
      expect(elapsedMs).toBeGreaterThanOrEqual(700);
      expect(elapsedMs).toBeLessThan(15_000);
      expect(sent()).toBeLessThan(1000);
      // Without a token the 401 may go out first; either way the connection does not outlive the timeout.
      expect(client.received()).toMatch(withToken ? /^HTTP\/1\.1 408/ : /^HTTP\/1\.1 (408|401)/);
    });
  }

  it('closes a client that sends its headers one byte at a time after headersTimeoutMs', {
    timeout: 30_000,
  }, async () => {
    const { port } = await start({ requestTimeoutMs: 5_000, headersTimeoutMs: 500 });
    const client = await connect(port);
    dribble(client.socket, 'GET /livez HTTP/1.1\r\nhost: x\r\nx-pad: '.padEnd(4_000, 'a'), 20);
    const elapsedMs = await client.closed;
    expect(elapsedMs).toBeGreaterThanOrEqual(400);
    expect(elapsedMs).toBeLessThan(4_500);
    expect(client.received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('closes an idle keep-alive connection after keepAliveTimeoutMs', { timeout: 30_000 }, async () => {
    const { port } = await start({ keepAliveTimeoutMs: 300 });
    const client = await connect(port);
    client.socket.write('GET /livez HTTP/1.1\r\nhost: x\r\n\r\n');
    const elapsedMs = await client.closed;
    expect(client.received()).toMatch(/^HTTP\/1\.1 200/);
    expect(elapsedMs).toBeGreaterThanOrEqual(250);
  });
});

describe('connection cap', () => {
  it('closes connections beyond maxConnections at once and serves the others', {
    timeout: 30_000,
  }, async () => {
    const { port } = await start({ maxConnections: 3 });
    const held = await Promise.all([1, 2, 3].map(() => connect(port)));
    // The server counts a connection once it has accepted it: wait until all three are in.
    const { app } = { app: apps[0] as App };
    for (let i = 0; i < 100; i++) {
      const count = await new Promise<number>((resolve) => app.server.getConnections((_e, n) => resolve(n)));
      if (count === 3) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const extra = await connect(port);
    extra.socket.write('GET /livez HTTP/1.1\r\nhost: x\r\n\r\n');
    await extra.closed;
    expect(extra.received()).toBe('');
    const first = held[0] as Client;
    first.socket.write('GET /livez HTTP/1.1\r\nhost: x\r\n\r\n');
    for (let i = 0; i < 200 && !first.received().includes('\r\n\r\n'); i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(first.received()).toMatch(/^HTTP\/1\.1 200/);
  });
});

describe('closeApp (shutdown)', () => {
  it('closes idle keep-alive connections at once and cuts a request still in flight after the grace', {
    timeout: 30_000,
  }, async () => {
    const { app, port } = await start({ keepAliveTimeoutMs: 60_000, requestTimeoutMs: 60_000 });
    const idle = await connect(port);
    idle.socket.write('GET /livez HTTP/1.1\r\nhost: x\r\n\r\n');
    for (let i = 0; i < 200 && !idle.received().includes('\r\n\r\n'); i++)
      await new Promise((r) => setTimeout(r, 20));
    const busy = await connect(port);
    busy.socket.write(slowPost(''));
    dribble(busy.socket, '{'.padEnd(1000, ' '), 100);
    await new Promise((r) => setTimeout(r, 200));

    const t0 = performance.now();
    const closing = closeApp(app, 600);
    apps.length = 0;
    await idle.closed;
    const idleClosedMs = performance.now() - t0;
    const { cut } = await closing;
    const closeMs = performance.now() - t0;
    await busy.closed;
    expect(cut).toBe(true);
    expect(closeMs).toBeGreaterThanOrEqual(550);
    // Generous: the busy client would otherwise hold the server for a minute.
    expect(closeMs).toBeLessThan(20_000);
    expect(idleClosedMs).toBeLessThan(closeMs);
  });

  it('finishes at once when nothing is in flight', { timeout: 30_000 }, async () => {
    const { app } = await start({});
    apps.length = 0;
    expect(await closeApp(app, 10_000)).toEqual({ cut: false });
  });
});
