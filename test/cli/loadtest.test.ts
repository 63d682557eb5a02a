/**
 * `smpp-bridge loadtest`: the command line, then short bounded runs (1–1.5 s) in-process against
 * our simulator (plain, throttling, with receipts, refusing the bind, over TLS) and against the
 * independent `smpp` npm package's server, an early stop, and once as a child process through
 * src/cli.ts stopped with a real SIGINT. Time is only ever a lower bound here; upper bounds are
 * counts (the run never sends more than rate × duration).
 */

import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import smpp from 'smpp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/args.js';
import { type LoadtestReport, parseLoadtestArgs, runLoadtest } from '../../src/cli/loadtest.js';
import { closedPort } from '../binds/helpers/counting-proxy.js';
import { type StartedSimulator, startSimulator, waitFor } from '../helpers/simulator.js';
import { makeTestCert, type TestCert } from '../helpers/tls-cert.js';

const ACCOUNTS = [{ systemId: 'loader', password: 'secret' }];

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
  options: { env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {},
): Promise<Run> {
  let out = '';
  let err = '';
  const code = await runLoadtest(argv, {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    env: options.env ?? { SMPP_PASSWORD: 'secret' },
    progressIntervalMs: 200,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { code, out, err };
}

async function runJson(argv: string[], options: { env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {}) {
  const r = await run([...argv, '--json'], options);
  return { ...r, report: JSON.parse(r.out) as LoadtestReport };
}

const target = (port: number) => ['--host', '127.0.0.1', '--port', String(port), '--system-id', 'loader'];

describe('parseLoadtestArgs', () => {
  it('defaults: port 2775, one transceiver, 10/s for 10 s, window 10, GSM text, no receipts', () => {
    const a = parseLoadtestArgs(['--host', 'smsc.example', '--system-id', 'me']);
    expect(a).toMatchObject({
      host: 'smsc.example',
      port: 2775,
      systemId: 'me',
      password: '',
      bindCommand: 'bind_transceiver',
      binds: 1,
      rate: 10,
      durationMs: 10_000,
      window: 10,
      text: 'smpp-bridge loadtest',
      from: '12345',
      to: '447700900000',
      receipts: false,
      receiptTimeoutMs: 10_000,
      timeoutMs: 10_000,
      tls: false,
      json: false,
      quiet: false,
      help: false,
    });
  });

  it('takes every option; decimal rate and duration; the password from SMPP_PASSWORD', () => {
    const a = parseLoadtestArgs(
      [
        '--host=h',
        '--port',
        '2776',
        '--system-id',
        'me',
        '--bind-type',
        'tx',
        '--binds',
        '4',
        '--rate',
        '12.5',
        '--duration',
        '1.5',
        '--window',
        '50',
        '--length',
        '30',
        '--timeout-ms',
        '500',
        '--tls',
        '--json',
        '--quiet',
      ],
      { SMPP_PASSWORD: 'pw' },
    );
    expect(a).toMatchObject({
      host: 'h',
      port: 2776,
      password: 'pw',
      bindCommand: 'bind_transmitter',
      binds: 4,
      rate: 12.5,
      durationMs: 1_500,
      window: 50,
      timeoutMs: 500,
      tls: true,
      json: true,
      quiet: true,
    });
    expect(a.text).toHaveLength(30);
  });

  it.each([
    [['--system-id', 'me'], '--host is required'],
    [['--host', 'h'], '--system-id is required'],
    [['--host', 'h', '--system-id', 'me', '--bind-type', 'rx'], 'a receiver cannot submit'],
    [
      ['--host', 'h', '--system-id', 'me', '--bind-type', 'tx', '--receipts'],
      '--receipts needs a transceiver',
    ],
    [['--host', 'h', '--system-id', 'me', '--text', 'a', '--length', '3'], 'not both'],
    [['--host', 'h', '--system-id', 'me', '--rate', '0'], '--rate: expected above 0'],
    [['--host', 'h', '--system-id', 'me', '--rate', 'fast'], "--rate: expected a number, got 'fast'"],
    [['--host', 'h', '--system-id', 'me', '--duration=-1'], "--duration: expected a number, got '-1'"],
    [['--host', 'h', '--system-id', 'me', '--duration', '-1'], '--duration needs a value'],
    [['--host', 'h', '--system-id', 'me', '--length', '255'], '--length: expected 1 to 254'],
    [['--host', 'h', '--system-id', 'me', '--text', 'Ж'.repeat(128)], '256 octets once encoded'],
    [['--host', 'h', '--system-id', 'me', '--binds', '2', '--binds', '3'], '--binds given twice'],
    [['--host', 'h', '--system-id', 'me', '--speed', '3'], "unknown option '--speed'"],
    [['--host', 'h', '--system-id', 'me', '--password', 'ninechars'], 'at most 8 characters'],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => parseLoadtestArgs(argv)).toThrow(UsageError);
    expect(() => parseLoadtestArgs(argv)).toThrow(message);
  });

  it('exit 2 with the reason on a usage error; --help prints the options and exits 0', async () => {
    const bad = await run(['--host', 'h', '--system-id', 'me', '--window', 'wide']);
    expect(bad.code).toBe(2);
    expect(bad.out).toBe('');
    expect(bad.err).toBe(
      "loadtest: --window: expected a whole number, got 'wide'\nrun 'smpp-bridge loadtest --help' for the options\n",
    );
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('usage: smpp-bridge loadtest');
    expect(help.out).toContain('SMPP_PASSWORD');
  });
});

describe('runLoadtest against the simulator', () => {
  it('spreads the rate over the binds; every submit_sm acknowledged, latency percentiles; exit 0', async () => {
    const sim = await simulator();
    const r = await runJson([...target(sim.port), '--binds', '3', '--rate', '100', '--duration', '1']);
    expect(r.err).not.toContain('loadtest:');
    expect(r.code).toBe(0);
    const report = r.report;
    expect(report.binds).toEqual({ requested: 3, bound: 3, lost: 0, failures: [] });
    // Never more than rate × duration; a loaded machine may send fewer.
    expect(report.submitted).toBeLessThanOrEqual(100);
    expect(report.submitted).toBeGreaterThanOrEqual(10);
    expect(report.acknowledged).toBe(report.submitted);
    expect(report.failed).toBe(0);
    expect(report.statuses).toEqual({ ESME_ROK: report.submitted });
    expect(report.throttled).toBe(0);
    expect(report.latency.count).toBe(report.submitted);
    const l = report.latency;
    expect(l.minMs!).toBeGreaterThan(0);
    expect(l.minMs!).toBeLessThanOrEqual(l.p50Ms!);
    expect(l.p50Ms!).toBeLessThanOrEqual(l.p90Ms!);
    expect(l.p90Ms!).toBeLessThanOrEqual(l.p99Ms!);
    expect(l.p99Ms!).toBeLessThanOrEqual(l.maxMs!);
    expect(report.achievedRate).toBeGreaterThan(0);
    expect(report.achievedRate).toBeCloseTo((report.submitted * 1000) / report.sendMs, 6);
    expect(report.receipts).toBeNull();
    expect(report.ok).toBe(true);
    // What the SMSC saw: three binds, every submit_sm, spread round-robin, and three unbinds.
    const counters = sim.sim.counters();
    expect(counters.binds).toBe(3);
    expect(counters.in.submit_sm).toBe(report.submitted);
    await waitFor(() => sim.sim.counters().in.unbind === 3, 2_000, 'three unbinds');
  });

  it('prints progress to stderr and a text summary to stdout', async () => {
    const sim = await simulator();
    const r = await run([...target(sim.port), '--binds', '2', '--rate', '50', '--duration', '1']);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toBe(
      `LOADTEST 127.0.0.1:${sim.port} as loader: 2 × bind_transceiver, 50 submit_sm/s for 1 s, window 10`,
    );
    const submitted = Number(/submitted {5}(\d+) in /.exec(r.out)?.[1]);
    expect(submitted).toBeGreaterThan(0);
    expect(r.out).toContain(`acknowledged  ${submitted}\n`);
    expect(r.out).toContain('failed        0\n');
    expect(r.out).toContain(`statuses      ESME_ROK ${submitted}\n`);
    expect(r.out).toContain('throttled     0 (ESME_RTHROTTLED)\n');
    expect(r.out).toMatch(
      /latency {7}p50 \d+\.\d{3} \/ p90 \d+\.\d{3} \/ p99 \d+\.\d{3} \/ max \d+\.\d{3} ms\n/,
    );
    // Progress every 200 ms here (1 s by default), on stderr only.
    expect(r.err).toMatch(
      /^ +\d+\.\ds {2}submitted \d+ \(\d+\/s\) {2}ok \d+ {2}failed 0 {2}throttled 0 {2}in flight \d+ {2}p50 /m,
    );
    expect(r.out).not.toContain('in flight');
    const quiet = await run([...target(sim.port), '--rate', '20', '--duration', '0.5', '--quiet']);
    expect(quiet.code).toBe(0);
    expect(quiet.err).toBe('');
  });

  it('counts ESME_RTHROTTLED from a throttling SMSC (fault throttle) and exits 1', async () => {
    const sim = await simulator({ faults: [{ fault: { kind: 'throttle', maxPerSecond: 10 } }] });
    const r = await runJson([...target(sim.port), '--binds', '2', '--rate', '100', '--duration', '1']);
    expect(r.code).toBe(1);
    const report = r.report;
    expect(report.throttled).toBeGreaterThan(0);
    expect(report.statuses.ESME_RTHROTTLED).toBe(report.throttled);
    expect(report.acknowledged).toBeGreaterThan(0);
    expect(report.acknowledged + report.throttled).toBe(report.submitted);
    expect(report.failed).toBe(report.throttled);
    expect(report.error).toMatchObject({ reason: 'not acknowledged', code: 'SMPP_ERR_COMMAND_STATUS' });
    expect(report.error!.message).toContain(`(ESME_RTHROTTLED ${report.throttled})`);
    expect(sim.sim.counters().submits).toBe(report.acknowledged);
  });

  it('--receipts: matches every receipt to its message and times it (at least the SMSC delay)', async () => {
    const sim = await simulator({ receipts: { delayMs: 80 } });
    const r = await runJson([
      ...target(sim.port),
      '--binds',
      '2',
      '--rate',
      '50',
      '--duration',
      '1',
      '--receipts',
    ]);
    expect(r.code).toBe(0);
    const receipts = r.report.receipts!;
    expect(receipts.expected).toBe(r.report.acknowledged);
    expect(receipts.received).toBe(receipts.expected);
    expect(receipts.missing).toBe(0);
    expect(receipts.unmatched).toBe(0);
    expect(receipts.byStat).toEqual({ DELIVRD: receipts.received });
    expect(receipts.latency.count).toBe(receipts.received);
    expect(receipts.latency.minMs!).toBeGreaterThanOrEqual(80);
    expect(sim.sim.counters().in.deliver_sm_resp).toBe(receipts.received);
  });

  it('--receipts: receipts that do not come in time are missing, exit 1', async () => {
    const sim = await simulator({ receipts: { delayMs: 60_000 } });
    const r = await runJson([
      ...target(sim.port),
      '--rate',
      '20',
      '--duration',
      '0.5',
      '--receipts',
      '--receipt-timeout-ms',
      '200',
    ]);
    expect(r.code).toBe(1);
    const receipts = r.report.receipts!;
    expect(receipts.expected).toBeGreaterThan(0);
    expect(receipts.received).toBe(0);
    expect(receipts.missing).toBe(receipts.expected);
    expect(r.report.error).toMatchObject({ reason: 'receipts missing' });
  });

  it('a refused bind: the status name, exit 1; nothing to connect to: connection refused', async () => {
    const sim = await simulator();
    const refused = await runJson([...target(sim.port), '--binds', '2', '--duration', '0.2'], {
      env: { SMPP_PASSWORD: 'wrong' },
    });
    const text = await run([...target(sim.port), '--duration', '0.2'], { env: { SMPP_PASSWORD: 'wrong' } });
    expect(text.code).toBe(1);
    expect(text.err).toBe(
      `loadtest: bind refused by 127.0.0.1:${sim.port}: ESME_RINVPASWD (Invalid password)\n`,
    );
    expect(refused.code).toBe(1);
    expect(refused.report.binds.bound).toBe(0);
    expect(refused.report.binds.failures).toHaveLength(2);
    expect(refused.report.error).toMatchObject({ reason: 'ESME_RINVPASWD', code: 'SMPP_ERR_BIND' });
    expect(refused.err).toBe('');
    expect(refused.report.submitted).toBe(0);

    const port = await closedPort();
    const nothing = await runJson([...target(port), '--duration', '0.2', '--timeout-ms', '2000']);
    expect(nothing.code).toBe(1);
    expect(nothing.report.error).toMatchObject({ reason: 'connection refused', code: 'SMPP_ERR_CONNECT' });
  });

  it('some binds refused (bind limit): the others carry the load, the run still fails', async () => {
    const sim = await simulator({ accounts: [{ systemId: 'loader', password: 'secret', maxBinds: 1 }] });
    const r = await runJson([...target(sim.port), '--binds', '2', '--rate', '20', '--duration', '0.5']);
    expect(r.code).toBe(1);
    expect(r.report.binds.bound).toBe(1);
    expect(r.report.binds.failures).toHaveLength(1);
    expect(r.report.acknowledged).toBe(r.report.submitted);
    expect(r.report.submitted).toBeGreaterThan(0);
    expect(r.report.error!.message).toMatch(/^1 of 2 binds failed: bind refused/);
  });

  it('a stop (SIGINT) ends sending early and still reports; exit 0 when all were acknowledged', async () => {
    const sim = await simulator();
    const controller = new AbortController();
    const running = runJson([...target(sim.port), '--rate', '50', '--duration', '60'], {
      signal: controller.signal,
    });
    await waitFor(() => (sim.sim.counters().in.submit_sm ?? 0) >= 5, 10_000, 'five submits');
    controller.abort();
    const r = await running;
    expect(r.code).toBe(0);
    expect(r.report.interrupted).toBe(true);
    expect(r.report.submitted).toBeGreaterThanOrEqual(5);
    expect(r.report.submitted).toBeLessThan(3_000);
    expect(r.report.acknowledged).toBe(r.report.submitted);
  });
});

describe('runLoadtest over TLS', () => {
  let made: TestCert;
  beforeAll(() => {
    made = makeTestCert('smpp-bridge-loadtest-tls-');
  });
  afterAll(() => {
    made.remove();
  });

  it('--tls-ca trusts the SMSC certificate; the run is acknowledged', async () => {
    const sim = await simulator({ tls: { key: made.key, cert: made.cert } });
    const r = await runJson([
      ...target(sim.port),
      '--rate',
      '20',
      '--duration',
      '0.5',
      '--tls-ca',
      join(made.dir, 'cert.pem'),
    ]);
    expect(r.code).toBe(0);
    expect(r.report.target.tls).toBe(true);
    expect(r.report.acknowledged).toBe(r.report.submitted);
    expect(r.report.submitted).toBeGreaterThan(0);
  });
});

describe('runLoadtest against the smpp npm package server', () => {
  interface Peer {
    port: number;
    submits: { text: string; dataCoding: number }[];
    binds: number;
  }

  async function nodeSmppServer(): Promise<Peer> {
    const peer: Peer = { port: 0, submits: [], binds: 0 };
    const sessions: smpp.Session[] = [];
    let nextId = 1;
    const server = smpp.createServer((session) => {
      sessions.push(session);
      session.on('error', () => {});
      session.on('pdu', (pdu) => {
        if (pdu.command === 'bind_transceiver' || pdu.command === 'bind_transmitter') {
          peer.binds++;
          session.send(pdu.response({ system_id: 'NODE-SMPP' }));
        } else if (pdu.command === 'submit_sm') {
          const sm = pdu.short_message as { message: string | Buffer };
          peer.submits.push({ text: String(sm.message), dataCoding: pdu.data_coding as number });
          session.send(pdu.response({ message_id: String(nextId++) }));
        } else if (pdu.command === 'enquire_link') {
          session.send(pdu.response());
        } else if (pdu.command === 'unbind') {
          session.send(pdu.response());
          session.close();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    peer.port = (server.address() as AddressInfo).port;
    cleanup.push(async () => {
      for (const s of sessions) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    return peer;
  }

  it('its server decodes every submit_sm (GSM text of --length 160) and acknowledges them all', async () => {
    const peer = await nodeSmppServer();
    const r = await runJson([
      ...target(peer.port),
      '--binds',
      '2',
      '--rate',
      '50',
      '--duration',
      '1',
      '--length',
      '160',
      '--bind-type',
      'tx',
    ]);
    expect(r.code).toBe(0);
    expect(peer.binds).toBe(2);
    expect(r.report.acknowledged).toBe(r.report.submitted);
    expect(peer.submits).toHaveLength(r.report.submitted);
    expect(r.report.config).toMatchObject({ dataCoding: 0, octets: 160 });
    for (const s of peer.submits) {
      expect(s.dataCoding).toBe(0);
      expect(s.text).toHaveLength(160);
      expect(s.text.startsWith('smpp-bridge loadtest smpp-bridge')).toBe(true);
    }
  });

  it('its server receives a UCS-2 text as UCS-2', async () => {
    const peer = await nodeSmppServer();
    const r = await runJson([...target(peer.port), '--rate', '20', '--duration', '0.3', '--text', 'Привет']);
    expect(r.code).toBe(0);
    expect(peer.submits.length).toBeGreaterThan(0);
    expect(peer.submits[0]).toEqual({ text: 'Привет', dataCoding: 8 });
  });
});

describe('smpp-bridge loadtest as a child process (src/cli.ts)', () => {
  const cli = join(process.cwd(), 'src', 'cli.ts');

  it('SIGINT stops it and prints the summary; exit 0; the password comes from SMPP_PASSWORD', async () => {
    const sim = await simulator();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', cli, 'loadtest', ...target(sim.port), '--rate', '20', '--duration', '120'],
      { env: { ...process.env, SMPP_PASSWORD: 'secret' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
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
    await waitFor(() => /submitted \d+/.test(err), 20_000, 'a progress line');
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toMatch(/--- 127\.0\.0\.1:\d+ loadtest summary \(interrupted\) ---/);
    const submitted = Number(/submitted {5}(\d+) in /.exec(out)?.[1]);
    expect(submitted).toBeGreaterThan(0);
    expect(out).toContain(`acknowledged  ${submitted}\n`);
    await waitFor(() => sim.sim.counters().in.unbind === 1, 2_000, 'the unbind');
  }, 40_000);
});
