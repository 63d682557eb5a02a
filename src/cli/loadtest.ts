/**
 * `smpp-bridge loadtest`: submits submit_sm at a steady rate over N binds and reports what the
 * SMSC made of it — acknowledged and failed counts by status, the achieved rate, response latency
 * percentiles, ESME_RTHROTTLED seen, and with --receipts the delivery receipts and their latency.
 * Built on the session layer directly (connectSocket + SmppSession, as `probe` is): no supervisor,
 * no reconnects, no retries — a lost bind is reported, not hidden. The sessions answer the SMSC's
 * enquire_link themselves; this command answers deliver_sm.
 *
 * The rate is paced by a token bucket (src/cli/pacer.ts), spread round-robin over the binds:
 * steady, not bursts. Latency runs from the submit call to its submit_sm_resp, so time spent
 * waiting for a window slot counts (the sender sees it too).
 *
 * Exit codes: 0 every bind bound and every submit_sm answered ESME_ROK (and, with --receipts,
 * every receipt received); 1 otherwise, with the summary; 2 usage error.
 */
import type { Duplex } from 'node:stream';
import { connectReason } from '../binds/probe.js';
import { RttStats, type RttSummary } from '../binds/rtt-stats.js';
import { cleanMessageId } from '../bridge/message-id.js';
import { ErrorCode, SmppError } from '../errors.js';
import { statusInfo, statusName } from '../protocol/command-status.js';
import { RegisteredDelivery } from '../protocol/constants.js';
import { bindFieldMaxChars } from '../protocol/layouts.js';
import type { Pdu } from '../protocol/pdu.js';
import { normaliseMessageId, parseReceipt } from '../protocol/receipt.js';
import { chooseEncoding, encodeText } from '../protocol/text.js';
import { type ConnectOptions, connectSocket } from '../session/connect.js';
import {
  SmppBindError,
  SmppConnectionClosedError,
  SmppResponseTimeoutError,
  SmppWindowWaitTimeoutError,
} from '../session/errors.js';
import { type BindCommand, SmppSession } from '../session/session.js';
import { type ClientCommandDeps, ExitCode, parseCommandArgs, runClientCommand, UsageError } from './args.js';
import { defaultBurst, TokenBucket } from './pacer.js';

const MAX_SYSTEM_ID = bindFieldMaxChars('system_id');
const MAX_PASSWORD = bindFieldMaxChars('password');

export const LOADTEST_USAGE = `usage: smpp-bridge loadtest --host HOST [--port PORT] --system-id ID --rate R --duration S [options]

Binds N times to an SMSC and submits submit_sm at a steady rate (spread over the binds), printing
progress every second and a summary: acknowledged and failed counts by status, the achieved rate,
response latency p50/p90/p99/max, ESME_RTHROTTLED seen, and with --receipts the receipts.

  --host HOST               SMSC host name or address (required)
  --port PORT               SMSC port (default 2775)
  --system-id ID            system_id to bind with (required)
  --password PASSWORD       password; better: set SMPP_PASSWORD, which keeps it out of shell history
  --bind-type TYPE          trx|transceiver (default), tx|transmitter
  --binds N                 binds (connections) to spread the load over (default 1)
  --rate R                  submit_sm per second over all binds (default 10)
  --duration S              seconds to submit for (default 10; decimals allowed)
  --window W                submit_sm in flight per bind at once (default 10)
  --text TEXT               the message text (default "smpp-bridge loadtest")
  --length L                instead of --text: a GSM 7-bit text of L characters (1-254)
  --from ADDR               source_addr (default 12345)
  --to ADDR                 destination_addr (default 447700900000)
  --receipts                ask for delivery receipts (registered_delivery 1) and time them
  --receipt-timeout-ms MS   after the last response, how long to wait for receipts (default 10000)
  --timeout-ms MS           connect, bind, window-wait and response timeout (default 10000)
  --tls                     connect over TLS
  --tls-ca FILE             trust this CA certificate (PEM); implies --tls
  --insecure                do not verify the SMSC's certificate; implies --tls
  --json                    print one JSON document instead of the text summary
  --quiet                   no progress lines
  -h, --help                show this help

Exit status: 0 every bind bound and every submit_sm answered ESME_ROK (and every receipt received),
1 anything else, 2 usage error. Ctrl-C stops sending, waits briefly for responses and prints the summary.`;

const BIND_TYPES: Record<string, BindCommand> = {
  trx: 'bind_transceiver',
  transceiver: 'bind_transceiver',
  tx: 'bind_transmitter',
  transmitter: 'bind_transmitter',
};

/** short_message holds 254 octets at most (reference §4.4.1). */
const MAX_SHORT_MESSAGE = 254;
const DEFAULT_TEXT = 'smpp-bridge loadtest';
/** After Ctrl-C, how long responses still in flight are waited for. */
const INTERRUPT_GRACE_MS = 500;
/** Latency percentiles cover the last this many responses (and receipts): 8 MB each at most. */
const MAX_LATENCY_SAMPLES = 1_000_000;

export interface LoadtestArgs {
  host: string;
  port: number;
  systemId: string;
  password: string;
  bindCommand: BindCommand;
  binds: number;
  rate: number;
  durationMs: number;
  window: number;
  text: string;
  from: string;
  to: string;
  receipts: boolean;
  receiptTimeoutMs: number;
  timeoutMs: number;
  tls: boolean;
  tlsCaFile: string | undefined;
  insecure: boolean;
  json: boolean;
  quiet: boolean;
  help: boolean;
}

/** The loadtest's options, parsed the way every command parses (./args.ts). */
const OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string' },
  'system-id': { type: 'string' },
  password: { type: 'string' },
  'bind-type': { type: 'string' },
  binds: { type: 'string' },
  rate: { type: 'string' },
  duration: { type: 'string' },
  window: { type: 'string' },
  text: { type: 'string' },
  length: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  'receipt-timeout-ms': { type: 'string' },
  'timeout-ms': { type: 'string' },
  'tls-ca': { type: 'string' },
  receipts: { type: 'boolean' },
  tls: { type: 'boolean' },
  insecure: { type: 'boolean' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function integer(flag: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${flag}: expected a whole number, got '${raw}'`);
  const n = Number(raw);
  if (n < min || n > max) throw new UsageError(`--${flag}: expected ${min} to ${max}, got ${raw}`);
  return n;
}

function decimal(flag: string, raw: string, max: number): number {
  if (!/^\d+(\.\d+)?$/.test(raw)) throw new UsageError(`--${flag}: expected a number, got '${raw}'`);
  const n = Number(raw);
  if (!(n > 0) || n > max) throw new UsageError(`--${flag}: expected above 0 and at most ${max}, got ${raw}`);
  return n;
}

/** Parses the loadtest command line; throws UsageError for anything it cannot take. */
export function parseLoadtestArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): LoadtestArgs {
  const values = parseCommandArgs(argv, OPTIONS);
  const given = new Map<string, string>();
  const flags = new Set<string>();
  for (const [name, value] of Object.entries(values)) {
    if (typeof value === 'string') given.set(name, value);
    else if (value === true) flags.add(name);
  }
  const help = flags.has('help');
  const host = given.get('host') ?? '';
  const systemId = given.get('system-id') ?? '';
  if (!help) {
    if (host === '') throw new UsageError('--host is required');
    if (systemId === '') throw new UsageError('--system-id is required');
  }
  if (systemId.length > MAX_SYSTEM_ID)
    throw new UsageError(`--system-id: at most ${MAX_SYSTEM_ID} characters`);
  const password = given.get('password') ?? env.SMPP_PASSWORD ?? '';
  if (password.length > MAX_PASSWORD)
    throw new UsageError(`password: at most ${MAX_PASSWORD} characters (SMPP limit)`);
  const bindTypeRaw = (given.get('bind-type') ?? 'trx').toLowerCase();
  const bindCommand = BIND_TYPES[bindTypeRaw];
  if (bindCommand === undefined) {
    const hint = bindTypeRaw === 'rx' || bindTypeRaw === 'receiver' ? ' (a receiver cannot submit)' : '';
    throw new UsageError(`--bind-type: expected one of ${Object.keys(BIND_TYPES).join(', ')}${hint}`);
  }
  const receipts = flags.has('receipts');
  if (receipts && bindCommand === 'bind_transmitter') {
    throw new UsageError('--receipts needs a transceiver bind (a transmitter receives no deliver_sm)');
  }
  if (given.has('text') && given.has('length')) throw new UsageError('give --text or --length, not both');
  let text = given.get('text') ?? DEFAULT_TEXT;
  if (given.has('length')) text = filler(integer('length', given.get('length')!, 1, MAX_SHORT_MESSAGE));
  if (text === '') throw new UsageError('--text: empty');
  const octets = shortMessageOf(text).short_message.length;
  if (octets > MAX_SHORT_MESSAGE) {
    throw new UsageError(
      `--text: ${octets} octets once encoded; short_message holds ${MAX_SHORT_MESSAGE} at most`,
    );
  }
  const from = given.get('from') ?? '12345';
  const to = given.get('to') ?? '447700900000';
  if (from.length > 20 || to.length > 20) throw new UsageError('--from/--to: at most 20 characters');
  const tlsCaFile = given.get('tls-ca');
  const insecure = flags.has('insecure');
  return {
    host,
    port: given.has('port') ? integer('port', given.get('port')!, 1, 65_535) : 2775,
    systemId,
    password,
    bindCommand,
    binds: given.has('binds') ? integer('binds', given.get('binds')!, 1, 1_000) : 1,
    rate: given.has('rate') ? decimal('rate', given.get('rate')!, 1_000_000) : 10,
    durationMs: Math.round(
      (given.has('duration') ? decimal('duration', given.get('duration')!, 86_400) : 10) * 1000,
    ),
    window: given.has('window') ? integer('window', given.get('window')!, 1, 10_000) : 10,
    text,
    from,
    to,
    receipts,
    receiptTimeoutMs: given.has('receipt-timeout-ms')
      ? integer('receipt-timeout-ms', given.get('receipt-timeout-ms')!, 0, 3_600_000)
      : 10_000,
    timeoutMs: given.has('timeout-ms')
      ? integer('timeout-ms', given.get('timeout-ms')!, 1, 3_600_000)
      : 10_000,
    tls: flags.has('tls') || tlsCaFile !== undefined || insecure,
    tlsCaFile,
    insecure,
    json: flags.has('json'),
    quiet: flags.has('quiet'),
    help,
  };
}

/** A GSM 7-bit text of exactly `length` characters. */
function filler(length: number): string {
  const unit = 'smpp-bridge loadtest ';
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
}

/** The text as short_message: GSM 7-bit (one septet per octet) when it fits, else UCS-2. */
function shortMessageOf(text: string): { data_coding: number; short_message: Buffer } {
  const { dataCoding } = chooseEncoding(text);
  return { data_coding: dataCoding, short_message: encodeText(text, dataCoding) };
}

// ------------------------------------------------------------------ report

export interface LoadtestFailure {
  /** In a word or two: a refused bind's status name (ESME_RINVPASWD), 'connection refused', 'timeout', ... */
  reason: string;
  /** SmppError code (SMPP_ERR_CONNECT, SMPP_ERR_BIND, ...). */
  code: string;
  message: string;
}

export interface LatencySummary {
  count: number;
  minMs: number | null;
  meanMs: number | null;
  p50Ms: number | null;
  p90Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

/** The --json document. */
export interface LoadtestReport {
  target: { host: string; port: number; tls: boolean };
  config: {
    systemId: string;
    bindCommand: BindCommand;
    binds: number;
    rate: number;
    durationMs: number;
    window: number;
    dataCoding: number;
    octets: number;
    receipts: boolean;
  };
  binds: { requested: number; bound: number; lost: number; failures: LoadtestFailure[] };
  submitted: number;
  acknowledged: number;
  failed: number;
  /** Outcomes by submit_sm_resp status name (ESME_ROK, ESME_RTHROTTLED, ...), or by error: timeout, window_timeout, connection_closed, no_response. */
  statuses: Record<string, number>;
  throttled: number;
  /** How long the sending phase took (from the first submit). */
  sendMs: number;
  /** submitted per second of sendMs. */
  achievedRate: number;
  latency: LatencySummary;
  receipts: {
    expected: number;
    received: number;
    missing: number;
    /** Receipts whose message_id matched no submit_sm of this run. */
    unmatched: number;
    byStat: Record<string, number>;
    latency: LatencySummary;
  } | null;
  /** deliver_sm that were not receipts (answered ESME_ROK). */
  mo: number;
  interrupted: boolean;
  ok: boolean;
  error: LoadtestFailure | null;
}

function latencyOf(s: RttSummary): LatencySummary {
  return {
    count: s.count,
    minMs: s.min,
    meanMs: s.mean,
    p50Ms: s.p50,
    p90Ms: s.p90,
    p99Ms: s.p99,
    maxMs: s.max,
  };
}

/** Why a bind failed, in words that name the SMSC. */
function bindFailure(error: unknown, where: string): LoadtestFailure {
  if (error instanceof SmppBindError) {
    const info = statusInfo(error.commandStatus);
    return {
      reason: info.name,
      code: error.code,
      message: `bind refused by ${where}: ${info.name} (${info.description})`,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  const full = message.includes(where) ? message : `${where}: ${message}`;
  if (error instanceof SmppResponseTimeoutError)
    return { reason: 'timeout', code: error.code, message: full };
  if (!(error instanceof SmppError)) return { reason: 'error', code: ErrorCode.Connect, message: full };
  let reason: string = error.code;
  if (error.code === ErrorCode.Connect) reason = connectReason(error);
  else if (error.code === ErrorCode.ConnectionClosed) reason = 'connection closed';
  return { reason, code: error.code, message: full };
}

/** The outcome name of a failed submit: the error kind. */
function errorOutcome(error: unknown): string {
  if (error instanceof SmppResponseTimeoutError) return 'timeout';
  if (error instanceof SmppWindowWaitTimeoutError) return 'window_timeout';
  if (error instanceof SmppConnectionClosedError) return 'connection_closed';
  if (error instanceof SmppError) return error.code;
  return 'error';
}

// ------------------------------------------------------------------ command

export interface LoadtestDeps extends ClientCommandDeps {
  connect?: (options: ConnectOptions) => Promise<Duplex>;
  /** Time between progress lines (default 1000 ms). */
  progressIntervalMs?: number;
}

export function runLoadtest(argv: string[], deps: LoadtestDeps = {}): Promise<number> {
  return runClientCommand('loadtest', LOADTEST_USAGE, argv, deps, parseLoadtestArgs, async (context) => {
    const { args, ca, signal, out, err } = context;
    const run = new LoadRun(args, ca, signal, deps.connect ?? connectSocket, {
      out: args.json ? () => {} : out,
      progress: args.quiet ? () => {} : err,
      progressIntervalMs: deps.progressIntervalMs ?? 1_000,
    });
    const report = await run.run();
    if (args.json) out(`${JSON.stringify(report, null, 2)}\n`);
    else printSummary(report, args, out, err);
    return report.ok ? ExitCode.Ok : ExitCode.Failure;
  });
}

const ms3 = (n: number | null): string => (n === null ? '-' : n.toFixed(3));

function latencyText(l: LatencySummary): string {
  return `p50 ${ms3(l.p50Ms)} / p90 ${ms3(l.p90Ms)} / p99 ${ms3(l.p99Ms)} / max ${ms3(l.maxMs)} ms`;
}

function counts(table: Record<string, number>): string {
  return Object.entries(table)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

function printSummary(
  report: LoadtestReport,
  args: LoadtestArgs,
  out: (t: string) => void,
  err: (t: string) => void,
): void {
  if (report.binds.bound > 0) {
    out(
      `\n--- ${args.host}:${args.port} loadtest summary${report.interrupted ? ' (interrupted)' : ''} ---\n`,
    );
    out(
      `binds         ${report.binds.bound} of ${report.binds.requested} bound${report.binds.lost > 0 ? `, ${report.binds.lost} lost` : ''}\n`,
    );
    out(
      `submitted     ${report.submitted} in ${(report.sendMs / 1000).toFixed(2)} s (${report.achievedRate.toFixed(1)}/s of ${args.rate}/s asked)\n`,
    );
    out(`acknowledged  ${report.acknowledged}\n`);
    out(`failed        ${report.failed}\n`);
    if (report.submitted > 0) out(`statuses      ${counts(report.statuses)}\n`);
    out(`throttled     ${report.throttled} (ESME_RTHROTTLED)\n`);
    out(`latency       ${latencyText(report.latency)}\n`);
    const r = report.receipts;
    if (r) {
      const stats = Object.keys(r.byStat).length > 0 ? ` (${counts(r.byStat)})` : '';
      const unmatched = r.unmatched > 0 ? `, ${r.unmatched} unmatched` : '';
      out(`receipts      ${r.received} of ${r.expected}${stats}${unmatched}\n`);
      out(`receipt time  ${latencyText(r.latency)}\n`);
    }
  }
  for (const f of report.binds.failures.slice(0, 3)) err(`loadtest: ${f.message}\n`);
  if (report.binds.failures.length > 3)
    err(`loadtest: ... and ${report.binds.failures.length - 3} more bind failures\n`);
  if (report.error && report.binds.bound > 0) err(`loadtest: ${report.error.message}\n`);
}

interface Output {
  out: (t: string) => void;
  progress: (t: string) => void;
  progressIntervalMs: number;
}

/** One run: binds, the paced send loop, the drain, the receipts, the unbinds. Owns every timer it sets. */
class LoadRun {
  private readonly where: string;
  private readonly sessions: SmppSession[] = [];
  private live: SmppSession[] = [];
  private nextBind = 0;
  private readonly pending = new Set<Promise<void>>();
  private readonly statuses: Record<string, number> = Object.create(null);
  private readonly latency: RttStats;
  private readonly receiptLatency: RttStats;
  /** Acknowledged message ids awaiting their receipt: canonical id -> submit time. */
  private readonly awaitingReceipt = new Map<string, number>();
  /** Receipts that came before their submit_sm_resp (or for no message of ours): canonical id -> arrival. */
  private readonly earlyReceipts = new Map<string, { at: number; stat: string }>();
  private readonly receiptStats: Record<string, number> = Object.create(null);
  private submitted = 0;
  private acknowledged = 0;
  private answered = 0;
  private receiptsExpected = 0;
  private receiptsReceived = 0;
  private mo = 0;
  private lost = 0;
  /** Set once the run stops counting: late callbacks are ignored. */
  private finished = false;
  private readonly shortMessage: { data_coding: number; short_message: Buffer };
  private readonly maxMessages: number;
  private onSettled: (() => void) | null = null;

  constructor(
    private readonly args: LoadtestArgs,
    private readonly ca: Buffer | undefined,
    private readonly signal: AbortSignal,
    private readonly connect: (options: ConnectOptions) => Promise<Duplex>,
    private readonly output: Output,
  ) {
    this.where = `${args.host}:${args.port}`;
    this.shortMessage = shortMessageOf(args.text);
    this.maxMessages = Math.max(1, Math.round((args.rate * args.durationMs) / 1000));
    this.latency = new RttStats(Math.min(this.maxMessages, MAX_LATENCY_SAMPLES));
    this.receiptLatency = new RttStats(args.receipts ? Math.min(this.maxMessages, MAX_LATENCY_SAMPLES) : 1);
  }

  async run(): Promise<LoadtestReport> {
    const { args } = this;
    const report: LoadtestReport = {
      target: { host: args.host, port: args.port, tls: args.tls },
      config: {
        systemId: args.systemId,
        bindCommand: args.bindCommand,
        binds: args.binds,
        rate: args.rate,
        durationMs: args.durationMs,
        window: args.window,
        dataCoding: this.shortMessage.data_coding,
        octets: this.shortMessage.short_message.length,
        receipts: args.receipts,
      },
      binds: { requested: args.binds, bound: 0, lost: 0, failures: [] },
      submitted: 0,
      acknowledged: 0,
      failed: 0,
      statuses: this.statuses,
      throttled: 0,
      sendMs: 0,
      achievedRate: 0,
      latency: latencyOf(this.latency.summary()),
      receipts: null,
      mo: 0,
      interrupted: false,
      ok: false,
      error: null,
    };
    this.output.out(
      `LOADTEST ${this.where}${args.tls ? ' (TLS)' : ''} as ${args.systemId}: ${args.binds} × ${args.bindCommand}, ${args.rate} submit_sm/s for ${args.durationMs / 1000} s, window ${args.window}${args.receipts ? ', receipts' : ''}\n`,
    );
    try {
      const t0 = performance.now();
      report.binds.failures = await this.bindAll();
      report.binds.bound = this.sessions.length;
      if (this.sessions.length === 0) {
        report.interrupted = this.signal.aborted;
        report.error = report.binds.failures[0] ?? {
          reason: 'interrupted',
          code: ErrorCode.Interrupted,
          message: `${this.where}: interrupted before bound`,
        };
        return report;
      }
      this.output.out(
        `bound ${this.sessions.length} of ${args.binds} in ${(performance.now() - t0).toFixed(1)} ms\n`,
      );
      report.sendMs = await this.send();
      await this.drain();
      if (args.receipts) await this.awaitReceipts();
      this.finished = true;
      report.interrupted = this.signal.aborted;
      report.binds.lost = this.lost;
      report.submitted = this.submitted;
      report.acknowledged = this.acknowledged;
      const unanswered = this.submitted - this.answered;
      if (unanswered > 0) this.statuses.no_response = unanswered;
      report.failed = this.submitted - this.acknowledged;
      report.throttled = this.statuses.ESME_RTHROTTLED ?? 0;
      report.achievedRate = report.sendMs > 0 ? (this.submitted * 1000) / report.sendMs : 0;
      report.latency = latencyOf(this.latency.summary());
      report.mo = this.mo;
      if (args.receipts) {
        report.receipts = {
          expected: this.receiptsExpected,
          received: this.receiptsReceived,
          missing: this.receiptsExpected - this.receiptsReceived,
          unmatched: this.earlyReceipts.size,
          byStat: this.receiptStats,
          latency: latencyOf(this.receiptLatency.summary()),
        };
      }
      report.error = this.verdict(report);
      report.ok = report.error === null;
      return report;
    } finally {
      this.finished = true;
      await Promise.all(this.sessions.map((s) => s.close()));
    }
  }

  /** The first thing that makes the run a failure, or null. */
  private verdict(report: LoadtestReport): LoadtestFailure | null {
    const failures = report.binds.failures;
    if (failures.length > 0) {
      return {
        ...failures[0]!,
        message: `${failures.length} of ${report.binds.requested} binds failed: ${failures[0]!.message}`,
      };
    }
    if (report.binds.lost > 0) {
      return {
        reason: 'connection closed',
        code: ErrorCode.ConnectionClosed,
        message: `${this.where}: ${report.binds.lost} of ${report.binds.bound} binds lost during the run`,
      };
    }
    if (report.failed > 0) {
      const notOk = { ...report.statuses };
      delete notOk.ESME_ROK;
      return {
        reason: 'not acknowledged',
        code: ErrorCode.CommandStatus,
        message: `${this.where}: ${report.failed} of ${report.submitted} submit_sm not acknowledged (${counts(notOk)})`,
      };
    }
    if (report.receipts && report.receipts.missing > 0) {
      return {
        reason: 'receipts missing',
        code: ErrorCode.ResponseTimeout,
        message: `${this.where}: ${report.receipts.missing} of ${report.receipts.expected} receipts not received within ${this.args.receiptTimeoutMs} ms`,
      };
    }
    return null;
  }

  /** Connects and binds every session at once; returns the failures. */
  private async bindAll(): Promise<LoadtestFailure[]> {
    const failures: LoadtestFailure[] = [];
    await Promise.all(
      Array.from({ length: this.args.binds }, async () => {
        try {
          const session = await this.bindOne();
          if (session) this.sessions.push(session);
        } catch (error) {
          failures.push(bindFailure(error, this.where));
        }
      }),
    );
    this.live = [...this.sessions];
    return failures;
  }

  private async bindOne(): Promise<SmppSession | null> {
    const { args } = this;
    if (this.signal.aborted) return null;
    const socket = await this.connect({
      host: args.host,
      port: args.port,
      connectTimeoutMs: args.timeoutMs,
      tls: { enabled: args.tls, ...(this.ca ? { ca: this.ca } : {}), rejectUnauthorized: !args.insecure },
    });
    const session = new SmppSession(socket, {
      role: 'esme',
      windowSize: args.window,
      windowWaitTimeoutMs: args.timeoutMs,
      responseTimeoutMs: args.timeoutMs,
      bindTimeoutMs: args.timeoutMs,
      // The traffic proves the link; no keepalive of ours. The SMSC's enquire_link is answered.
      enquireLinkIntervalMs: 0,
      unbindTimeoutMs: Math.min(args.timeoutMs, 2_000),
      onRequest: this.onRequest,
    });
    try {
      await session.bind(args.bindCommand, { system_id: args.systemId, password: args.password });
    } catch (error) {
      session.destroy();
      throw error;
    }
    if (this.signal.aborted) {
      await session.close();
      return null;
    }
    session.once('close', () => {
      if (this.finished) return;
      this.lost++;
      this.live = this.live.filter((s) => s !== session);
    });
    return session;
  }

  /** deliver_sm (receipts and MO) and data_sm from the SMSC: answered at once. */
  private readonly onRequest = (pdu: Pdu, session: SmppSession): void => {
    if (pdu.command === 'deliver_sm') {
      session.respond(pdu);
      const receipt = parseReceipt(pdu);
      if (receipt === null) {
        this.mo++;
        return;
      }
      if (receipt.final) this.onReceipt(receipt.id, receipt.stat);
    } else if (pdu.command === 'data_sm') {
      session.respond(pdu, { message_id: '' });
    } else {
      session.respond(pdu, { command_status: 0x00000003 }); // ESME_RINVCMDID
    }
  };

  private onReceipt(id: string, stat: string): void {
    if (this.finished) return;
    const at = performance.now();
    for (const candidate of normaliseMessageId(id)) {
      const key = cleanMessageId(candidate);
      const sentAt = this.awaitingReceipt.get(key);
      if (sentAt === undefined) continue;
      this.awaitingReceipt.delete(key);
      this.countReceipt(at - sentAt, stat);
      return;
    }
    this.earlyReceipts.set(cleanMessageId(id), { at, stat });
  }

  private countReceipt(latencyMs: number, stat: string): void {
    this.receiptsReceived++;
    this.receiptLatency.add(latencyMs);
    this.receiptStats[stat] = (this.receiptStats[stat] ?? 0) + 1;
    if (this.awaitingReceipt.size === 0) this.onSettled?.();
  }

  /** The paced send loop: resolves with how long sending took (ms). */
  private send(): Promise<number> {
    const { args } = this;
    return new Promise((resolve) => {
      const start = performance.now();
      const endAt = start + args.durationMs;
      const bucket = new TokenBucket(args.rate, defaultBurst(args.rate), start);
      let lastSentAt = start;
      let timer: NodeJS.Timeout | null = null;
      let secondStart = start;
      let secondSubmitted = 0;
      let secondLatency = new RttStats(64);
      this.onLatency = (ms) => secondLatency.add(ms);
      const progress = setInterval(() => {
        const now = performance.now();
        const rate = ((this.submitted - secondSubmitted) * 1000) / Math.max(1, now - secondStart);
        const p50 = secondLatency.summary().p50;
        this.output.progress(
          `${((now - start) / 1000).toFixed(1).padStart(6)}s  submitted ${this.submitted} (${rate.toFixed(0)}/s)  ok ${this.acknowledged}  failed ${this.answered - this.acknowledged}  throttled ${this.statuses.ESME_RTHROTTLED ?? 0}  in flight ${this.pending.size}${args.receipts ? `  receipts ${this.receiptsReceived}` : ''}  p50 ${ms3(p50)} ms\n`,
        );
        secondStart = now;
        secondSubmitted = this.submitted;
        secondLatency = new RttStats(64);
      }, this.output.progressIntervalMs);
      const stop = (): void => {
        if (timer) clearTimeout(timer);
        timer = null;
        clearInterval(progress);
        this.signal.removeEventListener('abort', stop);
        this.onLatency = null;
        // Sending took until the next message would have gone when the count was reached,
        // else until the duration ran out (or Ctrl-C, or the last bind was lost).
        const now = performance.now();
        const until = this.submitted >= this.maxMessages ? lastSentAt + 1000 / args.rate : now;
        resolve(Math.max(0, Math.min(until, endAt) - start));
      };
      const tick = (): void => {
        timer = null;
        const now = performance.now();
        if (
          this.signal.aborted ||
          this.live.length === 0 ||
          this.submitted >= this.maxMessages ||
          now >= endAt
        ) {
          stop();
          return;
        }
        const n = bucket.take(now, this.maxMessages - this.submitted);
        for (let i = 0; i < n && this.live.length > 0; i++) this.submitOne();
        if (n > 0) lastSentAt = now;
        if (this.submitted >= this.maxMessages) {
          stop();
          return;
        }
        timer = setTimeout(tick, Math.max(0, Math.min(bucket.nextAt(now), endAt) - performance.now()));
      };
      this.signal.addEventListener('abort', stop, { once: true });
      tick();
    });
  }

  private onLatency: ((ms: number) => void) | null = null;

  private submitOne(): void {
    const session = this.live[this.nextBind++ % this.live.length]!;
    const sentAt = performance.now();
    this.submitted++;
    const { args } = this;
    const request = session
      .request('submit_sm', {
        source_addr: args.from,
        destination_addr: args.to,
        registered_delivery: args.receipts ? RegisteredDelivery.FINAL : RegisteredDelivery.NONE,
        ...this.shortMessage,
      })
      .then(
        (resp) => {
          if (this.finished) return;
          const ms = performance.now() - sentAt;
          this.answered++;
          this.latency.add(ms);
          this.onLatency?.(ms);
          const name =
            resp.command === 'generic_nack'
              ? `generic_nack ${statusName(resp.command_status)}`
              : statusName(resp.command_status);
          this.statuses[name] = (this.statuses[name] ?? 0) + 1;
          if (resp.command !== 'submit_sm_resp' || resp.command_status !== 0) return;
          this.acknowledged++;
          if (!args.receipts) return;
          this.receiptsExpected++;
          const key = cleanMessageId(resp.message_id);
          const early = this.earlyReceipts.get(key);
          if (early) {
            this.earlyReceipts.delete(key);
            this.countReceipt(early.at - sentAt, early.stat);
          } else this.awaitingReceipt.set(key, sentAt);
        },
        (error: unknown) => {
          if (this.finished) return;
          this.answered++;
          const name = errorOutcome(error);
          this.statuses[name] = (this.statuses[name] ?? 0) + 1;
        },
      )
      .finally(() => {
        this.pending.delete(request);
        if (this.pending.size === 0) this.onSettled?.();
      });
    this.pending.add(request);
  }

  /**
   * Resolves once `done()` holds, or after `timeoutMs` — sooner when the signal aborts (after
   * INTERRUPT_GRACE_MS). Re-checked whenever a response or a receipt arrives.
   */
  private waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        if (grace) clearTimeout(grace);
        this.signal.removeEventListener('abort', onAbort);
        this.onSettled = null;
        resolve();
      };
      let grace: NodeJS.Timeout | null = null;
      const onAbort = (): void => {
        grace ??= setTimeout(finish, INTERRUPT_GRACE_MS);
      };
      const timer = setTimeout(finish, timeoutMs);
      this.onSettled = () => {
        if (done()) finish();
      };
      if (this.signal.aborted) onAbort();
      else this.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Waits for the responses still in flight (each has its own response timeout). */
  private drain(): Promise<void> {
    // Window waits and the response timeout both count: a request may wait twice timeoutMs.
    return this.waitUntil(() => this.pending.size === 0, 2 * this.args.timeoutMs + 100);
  }

  private awaitReceipts(): Promise<void> {
    return this.waitUntil(() => this.awaitingReceipt.size === 0, this.args.receiptTimeoutMs);
  }
}
