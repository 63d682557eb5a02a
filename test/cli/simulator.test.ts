/**
 * `smpp-bridge simulator` as an operator runs it: a child process that logs its real port,
 * accepts a bind, serves its control API, and exits 0 on SIGTERM. Usage and config errors
 * exit 2 before anything listens.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runSimulatorCommand } from '../../src/cli/simulator.js';
import { CommandStatus } from '../../src/protocol/command-status.js';
import type { SmppSession } from '../../src/session/session.js';
import { type CliChild, killAllChildren, startCli } from '../helpers/cli-child.js';
import { connectEsme } from '../helpers/simulator.js';

const dirs: string[] = [];
const esmes: SmppSession[] = [];

afterEach(() => {
  for (const e of esmes.splice(0)) e.destroy();
  killAllChildren();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  vi.restoreAllMocks();
});

const start = (args: string[]): CliChild => startCli(['simulator', ...args]);

describe('simulator CLI (child process)', () => {
  it('logs its real port, accepts a bind, serves the control API and exits 0 on SIGTERM', {
    timeout: 30_000,
  }, async () => {
    const child = start(['--port', '0', '--host', '127.0.0.1', '--control-port', '0']);
    const listening = await child.line(/^SMSC simulator listening on 127\.0\.0\.1:\d+$/);
    expect(listening.port).toBeGreaterThan(0);
    expect(child.lines.some((l) => /any system_id and password/.test(l.msg))).toBe(true);
    const control = await child.line(/^control API listening/);
    expect(control.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const esme = await connectEsme(listening.port!, { systemId: 'cli', password: 'any' });
    esmes.push(esme);
    const resp = await esme.request('submit_sm', {
      destination_addr: '447700900123',
      short_message: Buffer.from('x'),
    });
    expect(resp.command_status).toBe(0);
    const sessions = (await (await fetch(`${control.url}/sessions`)).json()) as { systemId: string }[];
    expect(sessions.map((s) => s.systemId)).toEqual(['cli']);

    child.process.kill('SIGTERM');
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(child.lines.some((l) => l.msg === 'stopped')).toBe(true);
    // The simulator unbound the ESME on its way out.
    await esme.whenClosed();
    expect(esme.closeReason).toBe('peer_unbind');
  });

  it('runs from a config file (its accounts apply), without the control API', {
    timeout: 30_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-cli-'));
    dirs.push(dir);
    const file = join(dir, 'sim.yaml');
    writeFileSync(file, 'host: 127.0.0.1\nport: 0\naccounts:\n  - { systemId: only, password: pw }\n');
    const child = start(['--config', file, '--control-port', 'off']);
    const listening = await child.line(/^SMSC simulator listening/);
    await child.line(/^control API off$/);
    expect(child.lines.some((l) => /any system_id/.test(l.msg))).toBe(false);
    const ok = await connectEsme(listening.port!, { systemId: 'only', password: 'pw' });
    esmes.push(ok);
    await expect(connectEsme(listening.port!, { systemId: 'other', password: 'pw' })).rejects.toMatchObject({
      commandStatus: CommandStatus.ESME_RINVSYSID,
    });
    child.process.kill('SIGINT');
    expect(await child.exited).toEqual({ code: 0, signal: null });
  });
});

describe('simulator CLI (usage)', () => {
  it.each([
    [['--bogus'], /unknown option '--bogus'/],
    [['--port', 'abc'], /--port must be a port from 0 to 65535, got "abc"/],
    [['--control-port', '70000'], /--control-port must be a port/],
    [['--tls-key', 'k.pem'], /--tls-key and --tls-cert go together/],
    [['--log-level', 'loud'], /--log-level must be one of/],
    [['--enquire-link-interval-ms', '1.5'], /--enquire-link-interval-ms must be a whole number/],
    [['--config', 'no/such/file.yaml'], /cannot read the config file .*file\.yaml: ENOENT/],
  ])('%j exits 2 and says why', async (argv, message) => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((m: unknown) => {
      errors.push(String(m));
    });
    expect(await runSimulatorCommand(argv)).toBe(2);
    expect(errors.join('\n')).toMatch(message);
  });

  it('--help prints the usage and exits 0', async () => {
    const out: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((m: unknown) => {
      out.push(String(m));
    });
    expect(await runSimulatorCommand(['--help'])).toBe(0);
    expect(out.join('\n')).toMatch(/usage: smpp-bridge simulator/);
    expect(out.join('\n')).toMatch(/--control-port PORT\|off/);
  });

  it('a config with problems exits 2 listing them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-cli-'));
    dirs.push(dir);
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'port: -1\nfaults:\n  - kind: delay\n');
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((m: unknown) => {
      errors.push(String(m));
    });
    expect(await runSimulatorCommand(['--config', file])).toBe(2);
    expect(errors.join('\n')).toMatch(/port \(line 1\): expected an integer from 0 to 65535/);
    expect(errors.join('\n')).toMatch(/faults\[0\]\.ms \(line 3\): required key is missing/);
  });
});
