/**
 * `serve` in-process: its command line, and a start that fails half-way closing what it started
 * (the child-process view of the same is test/e2e/lifecycle.test.ts).
 */
import net from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runServe, StartError, startService } from '../../src/cli/serve.js';
import { demoConfig } from '../../src/config/service-config.js';

afterEach(() => {
  vi.restoreAllMocks();
});

async function listenOn(port = 0): Promise<net.Server> {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return server;
}

const close = (server: net.Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe('serve command line', () => {
  it.each([
    [['--confg', 'x.yaml'], /^serve: unknown option '--confg'/],
    [['--config'], /^serve: --config needs a value/],
    [['extra'], /^serve: unexpected argument 'extra'/],
  ])('%j exits 2 and says why', async (argv, message) => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((m: unknown) => {
      errors.push(String(m));
    });
    expect(await runServe(argv)).toBe(2);
    expect(errors.join('\n')).toMatch(message);
  });

  it('--help prints the usage with the exit codes and exits 0', async () => {
    const out: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((m: unknown) => {
      out.push(String(m));
    });
    expect(await runServe(['--help'])).toBe(0);
    expect(out.join('\n')).toMatch(/Exit status: 0 .*1 cannot start.*2 bad command line or config/);
  });
});

describe('startService when the HTTP port is taken', () => {
  it('throws a StartError naming the address, and closes the embedded simulator it had started', async () => {
    const busy = await listenOn();
    const { port: httpPort } = busy.address() as net.AddressInfo;
    // A free port for the simulator, known in advance so the test can check it is free again.
    const probe = await listenOn();
    const { port: simPort } = probe.address() as net.AddressInfo;
    await close(probe);

    const config = demoConfig();
    config.http = { ...config.http, host: '127.0.0.1', port: httpPort };
    config.simulator = { ...config.simulator, host: '127.0.0.1', port: simPort };
    const error = await startService(config, pino({ level: 'silent' })).then(
      () => null,
      (e: unknown) => e,
    );
    await close(busy);
    expect(error).toBeInstanceOf(StartError);
    expect((error as Error).message).toBe(
      `the HTTP API cannot listen on 127.0.0.1:${httpPort}: address already in use (EADDRINUSE)`,
    );
    // The simulator's port is free again: nothing was left listening.
    await close(await listenOn(simPort));
  });
});
