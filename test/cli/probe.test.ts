/**
 * `smpp-bridge probe`: the command line, then the command run in-process against the simulator
 * (text and JSON output, exit codes, each failure and its reason, early stop, TLS), and once as a
 * child process through src/cli.ts, stopped with a real SIGINT.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ProbeReport, summarise } from '../../src/binds/probe.js';
import { UsageError } from '../../src/cli/args.js';
import { parseProbeArgs, runProbeCommand } from '../../src/cli/probe.js';
import { CommandStatus } from '../../src/protocol/command-status.js';
import { closedPort } from '../binds/helpers/counting-proxy.js';
import { type StartedSimulator, startSimulator, waitFor } from '../helpers/simulator.js';
import { makeTestCert, type TestCert } from '../helpers/tls-cert.js';

const ACCOUNTS = [{ systemId: 'bridge', password: 'secret' }];

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function simulator(options: Parameters<typeof startSimulator>[0] = {}): Promise<StartedSimulator> {
  const sim = await startSimulator({ accounts: ACCOUNTS, ...options });
  cleanup.push(() => sim.close());
  return sim;
}

interface Run {
  code: number;
  out: string;
  err: string;
}

async function run(
  argv: string[],
  options: { env?: NodeJS.ProcessEnv; signal?: AbortSignal; onOut?: (outSoFar: string) => void } = {},
): Promise<Run> {
  let out = '';
  let err = '';
  const code = await runProbeCommand(argv, {
    stdout: (t) => {
      out += t;
      options.onOut?.(out);
    },
    stderr: (t) => {
      err += t;
    },
    env: options.env ?? {},
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { code, out, err };
}

const target = (port: number) => ['--host', '127.0.0.1', '--port', String(port), '--system-id', 'bridge'];
const fast = ['--interval-ms', '20', '--timeout-ms', '500'];

describe('parseProbeArgs', () => {
  it('defaults: port 2775, transceiver, 3.4, 4 probes 1 s apart, 5 s timeout, no TLS, text', () => {
    expect(parseProbeArgs(['--host', 'smsc.example', '--system-id', 'me'])).toEqual({
      host: 'smsc.example',
      port: 2775,
      systemId: 'me',
      password: '',
      bindCommand: 'bind_transceiver',
      systemType: '',
      interfaceVersion: 0x34,
      tls: false,
      tlsCaFile: undefined,
      insecure: false,
      count: 4,
      intervalMs: 1_000,
      timeoutMs: 5_000,
      json: false,
      help: false,
    });
  });

  it('takes --flag value and --flag=value; bind-type aliases; 5.0', () => {
    const a = parseProbeArgs([
      '--host=h',
      '--port=2776',
      '--system-id',
      'me',
      '--bind-type=tx',
      '--interface-version',
      '5.0',
      '--count',
      '10',
      '--interval-ms=0',
      '--timeout-ms',
      '250',
      '--system-type',
      'VMA',
      '--json',
    ]);
    expect(a).toMatchObject({
      host: 'h',
      port: 2776,
      bindCommand: 'bind_transmitter',
      interfaceVersion: 0x50,
      count: 10,
      intervalMs: 0,
      timeoutMs: 250,
      systemType: 'VMA',
      json: true,
    });
    for (const [flag, command] of [
      ['trx', 'bind_transceiver'],
      ['transceiver', 'bind_transceiver'],
      ['transmitter', 'bind_transmitter'],
      ['rx', 'bind_receiver'],
      ['RECEIVER', 'bind_receiver'],
    ]) {
      expect(parseProbeArgs(['--host', 'h', '--system-id', 'x', '--bind-type', flag!]).bindCommand).toBe(
        command,
      );
    }
  });

  it('the password comes from --password, else SMPP_PASSWORD', () => {
    const base = ['--host', 'h', '--system-id', 'x'];
    expect(parseProbeArgs(base, { SMPP_PASSWORD: 'fromenv' }).password).toBe('fromenv');
    expect(parseProbeArgs([...base, '--password', 'flag'], { SMPP_PASSWORD: 'fromenv' }).password).toBe(
      'flag',
    );
  });

  it('--tls-ca and --insecure imply --tls', () => {
    expect(parseProbeArgs(['--host', 'h', '--system-id', 'x', '--tls-ca', 'ca.pem'])).toMatchObject({
      tls: true,
      tlsCaFile: 'ca.pem',
    });
    expect(parseProbeArgs(['--host', 'h', '--system-id', 'x', '--insecure'])).toMatchObject({
      tls: true,
      insecure: true,
    });
  });

  it('--help needs nothing else', () => {
    expect(parseProbeArgs(['--help']).help).toBe(true);
    expect(parseProbeArgs(['-h']).help).toBe(true);
  });

  const bad: [string, string[], RegExp][] = [
    ['unknown flag', ['--host', 'h', '--system-id', 'x', '--verbose'], /unknown option '--verbose'/],
    ['missing host', ['--system-id', 'x'], /--host is required/],
    ['missing system-id', ['--host', 'h'], /--system-id is required/],
    [
      'port not a number',
      ['--host', 'h', '--system-id', 'x', '--port', 'abc'],
      /--port: expected a whole number/,
    ],
    ['port 0', ['--host', 'h', '--system-id', 'x', '--port', '0'], /--port: expected 1 to 65535/],
    ['port too big', ['--host', 'h', '--system-id', 'x', '--port', '70000'], /--port: expected 1 to 65535/],
    ['count 0', ['--host', 'h', '--system-id', 'x', '--count', '0'], /--count: expected 1 to/],
    ['negative interval', ['--host', 'h', '--system-id', 'x', '--interval-ms=-5'], /whole number/],
    // parseArgs reads a value starting with '-' as the next option.
    [
      'negative interval, spaced',
      ['--host', 'h', '--system-id', 'x', '--interval-ms', '-5'],
      /--interval-ms needs a value/,
    ],
    [
      'system_type too long',
      ['--host', 'h', '--system-id', 'x', '--system-type', 'x'.repeat(13)],
      /at most 12/,
    ],
    ['fractional timeout', ['--host', 'h', '--system-id', 'x', '--timeout-ms', '1.5'], /whole number/],
    ['value missing at the end', ['--host', 'h', '--system-id'], /--system-id needs a value/],
    ['value missing before a flag', ['--host', '--system-id', 'x'], /--host needs a value/],
    ['given twice', ['--host', 'h', '--host', 'g', '--system-id', 'x'], /--host given twice/],
    ['positional argument', ['smsc', '--host', 'h', '--system-id', 'x'], /unexpected argument 'smsc'/],
    ['bad bind type', ['--host', 'h', '--system-id', 'x', '--bind-type', 'both'], /--bind-type/],
    ['bad version', ['--host', 'h', '--system-id', 'x', '--interface-version', '4'], /3\.4 or 5\.0/],
    ['value on a switch', ['--host', 'h', '--system-id', 'x', '--json=yes'], /--json takes no value/],
    ['system_id too long', ['--host', 'h', '--system-id', 'x'.repeat(16)], /at most 15/],
    ['password too long', ['--host', 'h', '--system-id', 'x', '--password', '123456789'], /at most 8/],
  ];
  for (const [name, argv, message] of bad) {
    it(`usage error: ${name}`, () => {
      expect(() => parseProbeArgs(argv)).toThrow(UsageError);
      expect(() => parseProbeArgs(argv)).toThrow(message);
    });
  }
});

describe('summarise', () => {
  it('counts, loss and nearest-rank statistics over the answered probes', () => {
    const ok = (seq: number, rttMs: number) => ({ seq, ok: true, rttMs, commandStatus: 0, error: null });
    const lost = (seq: number) => ({ seq, ok: false, rttMs: null, commandStatus: null, error: 'timeout' });
    expect(summarise([ok(2, 3), lost(3), ok(4, 1), ok(5, 2)])).toEqual({
      sent: 4,
      received: 3,
      lossPercent: 25,
      minMs: 1,
      avgMs: 2,
      p50Ms: 2,
      maxMs: 3,
    });
    expect(summarise([])).toMatchObject({ sent: 0, received: 0, lossPercent: 0, minMs: null });
    expect(summarise([lost(2), lost(3), ok(4, 1)]).lossPercent).toBe(66.7);
  });
});

describe('runProbeCommand against the simulator', () => {
  it('prints each round trip like ping, then the statistics; unbinds; exit 0', async () => {
    const sim = await simulator();
    const r = await run([...target(sim.port), '--count', '3', ...fast], { env: { SMPP_PASSWORD: 'secret' } });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toBe(`PROBE 127.0.0.1:${sim.port} as bridge (bind_transceiver, SMPP 3.4)`);
    expect(lines[1]).toMatch(/^bound to SMPPSIM in \d+\.\d{3} ms$/);
    for (const [i, seq] of [2, 3, 4].entries()) {
      expect(lines[2 + i]).toMatch(
        new RegExp(`^enquire_link_resp from 127\\.0\\.0\\.1:${sim.port}: seq=${seq} time=\\d+\\.\\d{3} ms$`),
      );
    }
    expect(lines[5]).toBe('');
    expect(lines[6]).toBe(`--- 127.0.0.1:${sim.port} enquire_link statistics ---`);
    expect(lines[7]).toBe('3 sent, 3 received, 0.0% loss');
    expect(lines[8]).toMatch(/^rtt min\/avg\/p50\/max = \d+\.\d{3}\/\d+\.\d{3}\/\d+\.\d{3}\/\d+\.\d{3} ms$/);
    expect(lines).toHaveLength(9);
    expect(r.out).not.toContain('secret');
    const counters = sim.sim.counters();
    expect(counters.in.enquire_link).toBe(3);
    expect(counters.in.unbind).toBe(1);
    expect(counters.in.bind_transceiver).toBe(1);
  });

  it('paces the probes --interval-ms apart', async () => {
    const sim = await simulator();
    const t = performance.now();
    const r = await run([
      ...target(sim.port),
      '--password',
      'secret',
      '--count',
      '4',
      '--interval-ms',
      '100',
    ]);
    expect(r.code).toBe(0);
    const took = performance.now() - t;
    expect(took).toBeGreaterThanOrEqual(300);
    expect(took).toBeLessThan(1_000);
  });

  it('--json prints one document with the bind, every probe and the summary', async () => {
    const sim = await simulator();
    const r = await run([...target(sim.port), '--password', 'secret', '--count', '2', ...fast, '--json']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    const report = JSON.parse(r.out) as ProbeReport;
    expect(report).toMatchObject({
      target: { host: '127.0.0.1', port: sim.port, tls: false },
      bind: {
        command: 'bind_transceiver',
        systemId: 'bridge',
        bound: true,
        smscSystemId: 'SMPPSIM',
        smscInterfaceVersion: '3.4',
      },
      summary: { sent: 2, received: 2, lossPercent: 0 },
      interrupted: false,
      ok: true,
      error: null,
    });
    expect(report.bind.bindMs).toBeGreaterThan(0);
    expect(report.probes.map((p) => [p.seq, p.ok, p.commandStatus, p.error])).toEqual([
      [2, true, 0, null],
      [3, true, 0, null],
    ]);
    for (const p of report.probes) expect(p.rttMs).toBeGreaterThan(0);
    expect(report.summary.minMs).toBeLessThanOrEqual(report.summary.maxMs!);
    expect(r.out).not.toContain('secret');
  });

  it('--bind-type rx binds as a receiver', async () => {
    const sim = await simulator();
    const r = await run([
      ...target(sim.port),
      '--password',
      'secret',
      '--count',
      '1',
      '--bind-type',
      'rx',
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as ProbeReport).bind.command).toBe('bind_receiver');
    expect(sim.sim.counters().in.bind_receiver).toBe(1);
  });

  it('a wrong password: exit 1, the status name in the message and the JSON reason', async () => {
    const sim = await simulator();
    const r = await run([...target(sim.port), '--password', 'wrong', ...fast]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`probe: bind refused by 127.0.0.1:${sim.port}: ESME_RINVPASWD (Invalid password)\n`);
    expect(r.out).not.toContain('statistics');
    const j = await run([...target(sim.port), '--password', 'wrong', ...fast, '--json']);
    expect(j.code).toBe(1);
    const report = JSON.parse(j.out) as ProbeReport;
    expect(report.ok).toBe(false);
    expect(report.bind.bound).toBe(false);
    expect(report.error).toMatchObject({
      reason: 'ESME_RINVPASWD',
      code: 'SMPP_ERR_BIND',
      status: 'ESME_RINVPASWD',
    });
    expect(report.probes).toEqual([]);
  });

  it('connection refused: exit 1 with the reason', async () => {
    const port = await closedPort();
    const r = await run([...target(port), ...fast]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`probe: cannot connect to 127.0.0.1:${port}: ECONNREFUSED\n`);
    const j = JSON.parse((await run([...target(port), ...fast, '--json'])).out) as ProbeReport;
    expect(j.error).toMatchObject({ reason: 'connection refused', code: 'SMPP_ERR_CONNECT' });
  });

  it('no bind_resp within --timeout-ms: exit 1, timeout', async () => {
    const sim = await simulator();
    sim.sim.setFault({ kind: 'blackhole' });
    const t = performance.now();
    const r = await run([...target(sim.port), '--password', 'secret', '--timeout-ms', '200', '--json']);
    expect(performance.now() - t).toBeLessThan(1_000);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out) as ProbeReport;
    expect(report.error).toMatchObject({
      reason: 'timeout',
      message: `no bind_transceiver_resp from 127.0.0.1:${sim.port} within 200 ms`,
    });
  });

  it('unanswered probes are reported as lost: exit 1, loss in the statistics', async () => {
    const sim = await simulator();
    // Once bound, every answer comes 400 ms late: past the 150 ms probe timeout.
    sim.sim.on('bind', () => sim.sim.setFault({ kind: 'delay', ms: 400 }));
    const r = await run([
      ...target(sim.port),
      '--password',
      'secret',
      '--count',
      '2',
      '--interval-ms',
      '0',
      '--timeout-ms',
      '150',
    ]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      new RegExp(`no enquire_link_resp from 127\\.0\\.0\\.1:${sim.port}: seq=2 \\(timeout 150 ms\\)`),
    );
    expect(r.out).toContain('2 sent, 0 received, 100.0% loss');
    expect(r.out).not.toContain('rtt min');
    expect(r.err).toBe(`probe: 127.0.0.1:${sim.port}: 2 of 2 enquire_link unanswered within 150 ms\n`);
  });

  it('an enquire_link_resp with an error status is an answer, shown with its status, and fails the run', async () => {
    const sim = await simulator();
    sim.sim.setFault({
      kind: 'error_status',
      status: CommandStatus.ESME_RSYSERR,
      commands: ['enquire_link'],
    });
    const r = await run([...target(sim.port), '--password', 'secret', '--count', '1']);
    expect(r.out).toMatch(/seq=2 time=\d+\.\d{3} ms status=ESME_RSYSERR/);
    expect(r.code).toBe(1);
    const json = await run([...target(sim.port), '--password', 'secret', '--count', '1', '--json']);
    const report = JSON.parse(json.out) as ProbeReport;
    expect(report.probes[0]).toMatchObject({
      ok: false,
      commandStatus: CommandStatus.ESME_RSYSERR,
      error: 'ESME_RSYSERR',
    });
    expect(report.summary.received).toBe(1);
    expect(report.error).toMatchObject({ code: 'SMPP_ERR_PROBE_REJECTED', status: 'ESME_RSYSERR' });
  });

  it('the SMSC closing the connection mid-run: exit 1, connection closed', async () => {
    const sim = await simulator();
    sim.sim.on('bind', () => setTimeout(() => sim.sim.setFault({ kind: 'drop', mode: 'rst' }), 30));
    const r = await run([
      ...target(sim.port),
      '--password',
      'secret',
      '--count',
      '20',
      '--interval-ms',
      '20',
      '--json',
    ]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out) as ProbeReport;
    expect(report.bind.bound).toBe(true);
    expect(report.error?.reason).toBe('connection closed');
    expect(report.summary.received).toBeGreaterThanOrEqual(1);
    expect(report.summary.sent).toBeLessThan(20);
  });

  it('stopped early (SIGINT): prints the statistics so far, exit 0 when all were answered', async () => {
    const sim = await simulator();
    const controller = new AbortController();
    // Stop once the probe itself has printed three answers: the SMSC seeing a third enquire_link
    // is not enough (its answer may still be on the way, and an unanswered probe cut short by
    // SIGINT is not counted).
    let answered = 0;
    const running = run(
      [...target(sim.port), '--password', 'secret', '--count', '1000', '--interval-ms', '30'],
      {
        signal: controller.signal,
        onOut: (out) => {
          answered = out.split('\n').filter((l) => /^enquire_link_resp from .*seq=\d+/.test(l)).length;
        },
      },
    );
    await waitFor(() => answered >= 3, 10_000, 'three answered probes');
    controller.abort();
    const r = await running;
    expect(r.code).toBe(0);
    const sent = Number(/(\d+) sent, (\d+) received, 0\.0% loss/.exec(r.out)?.[1]);
    expect(sent).toBeGreaterThanOrEqual(3);
    expect(sent).toBeLessThan(20);
    expect(r.out).toContain(`${sent} sent, ${sent} received`);
    await waitFor(() => sim.sim.counters().in.unbind === 1, 1_000, 'the unbind');
  });

  it('stopped before bound: exit 1, interrupted', async () => {
    const sim = await simulator();
    sim.sim.setFault({ kind: 'blackhole' });
    const controller = new AbortController();
    const running = run([...target(sim.port), '--password', 'secret', '--json'], {
      signal: controller.signal,
    });
    await waitFor(() => (sim.sim.counters().in.bind_transceiver ?? 0) === 1, 2_000, 'the bind');
    controller.abort();
    const r = await running;
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({
      interrupted: true,
      ok: false,
      error: { reason: 'interrupted' },
    });
  });

  it('--help prints the usage, exit 0; a usage error exits 2 with the reason on stderr', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('usage: smpp-bridge probe --host HOST');
    expect(help.out).toContain('SMPP_PASSWORD');
    const bad = await run(['--host', 'h', '--system-id', 'x', '--count', 'many']);
    expect(bad.code).toBe(2);
    expect(bad.out).toBe('');
    expect(bad.err).toBe(
      "probe: --count: expected a whole number, got 'many'\nrun 'smpp-bridge probe --help' for the options\n",
    );
    const missing = await run(['--port', '2775']);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('--host is required');
  });
});

describe('runProbeCommand over TLS', () => {
  let dir: string;
  let key: string;
  let cert: string;

  let made: TestCert;
  beforeAll(() => {
    made = makeTestCert('smpp-bridge-probe-tls-');
    ({ dir, key, cert } = made);
  });

  afterAll(() => {
    made.remove();
  });

  it('--tls-ca FILE trusts the SMSC certificate: bound, exit 0', async () => {
    const sim = await simulator({ tls: { key, cert } });
    const r = await run([
      ...target(sim.port),
      '--password',
      'secret',
      '--count',
      '2',
      ...fast,
      '--tls-ca',
      join(dir, 'cert.pem'),
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toBe(
      `PROBE 127.0.0.1:${sim.port} (TLS) as bridge (bind_transceiver, SMPP 3.4)`,
    );
  });

  it('an untrusted certificate fails with a TLS reason; --insecure accepts it', async () => {
    const sim = await simulator({ tls: { key, cert } });
    const r = await run([...target(sim.port), '--password', 'secret', '--count', '1', '--tls', '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out) as ProbeReport;
    expect(report.error).toMatchObject({
      code: 'SMPP_ERR_CONNECT',
      reason: 'tls: DEPTH_ZERO_SELF_SIGNED_CERT',
    });
    const insecure = await run([...target(sim.port), '--password', 'secret', '--count', '1', '--insecure']);
    expect(insecure.code).toBe(0);
  });

  it('--tls-ca with a file that cannot be read is a usage error', async () => {
    const r = await run(['--host', 'h', '--system-id', 'x', '--tls-ca', join(dir, 'missing.pem')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('cannot read');
    expect(r.err).toContain('ENOENT');
  });
});

describe('smpp-bridge probe as a child process (src/cli.ts)', () => {
  const cli = join(process.cwd(), 'src', 'cli.ts');

  function spawnCli(argv: string[], env: NodeJS.ProcessEnv = {}) {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, 'probe', ...argv], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    cleanup.push(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    return { child, exited, out: () => out, err: () => err };
  }

  it('SIGINT stops it early: the statistics so far, exit 0; the password comes from SMPP_PASSWORD', async () => {
    const sim = await simulator();
    const p = spawnCli([...target(sim.port), '--count', '1000', '--interval-ms', '50'], {
      SMPP_PASSWORD: 'secret',
    });
    await waitFor(() => (p.out().match(/enquire_link_resp from/g) ?? []).length >= 2, 15_000, 'two replies');
    p.child.kill('SIGINT');
    const code = await p.exited;
    expect(p.err()).toBe('');
    expect(code).toBe(0);
    expect(p.out()).toMatch(
      /--- 127\.0\.0\.1:\d+ enquire_link statistics ---\n(\d+) sent, \1 received, 0\.0% loss\n/,
    );
    await waitFor(() => sim.sim.counters().in.unbind === 1, 2_000, 'the unbind');
  }, 30_000);

  it('exit 2 on a usage error, 1 on a refused bind', async () => {
    const usage = spawnCli(['--host', '127.0.0.1']);
    expect(await usage.exited).toBe(2);
    expect(usage.err()).toContain('--system-id is required');
    const sim = await simulator();
    const refused = spawnCli([...target(sim.port), '--count', '1'], { SMPP_PASSWORD: 'nope' });
    expect(await refused.exited).toBe(1);
    expect(refused.err()).toContain('ESME_RINVPASWD');
  }, 30_000);
});
