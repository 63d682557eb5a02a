/**
 * `smpp-bridge probe`: ping for SMPP. Connects (TCP or TLS), binds, sends enquire_link `count`
 * times `intervalMs` apart, prints each round trip like ping, then a summary, and unbinds.
 * Built on the session layer directly (connectSocket + SmppSession), without a supervisor: one
 * connection, no retries — the point is to see what happens.
 *
 * Exit codes: 0 bound and every probe answered; 1 failure (connect, TLS, bind refused or timed
 * out, a probe unanswered, the connection lost), with the reason; 2 usage error.
 */
import { readFile } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import { ErrorCode, SmppError } from '../errors.js';
import { statusInfo } from '../protocol/command-status.js';
import { type ConnectOptions, connectSocket } from '../session/connect.js';
import { SmppBindError, SmppProbeRejectedError, SmppResponseTimeoutError } from '../session/errors.js';
import { type BindCommand, SmppSession } from '../session/session.js';
import { RttStats } from './rtt-stats.js';

export const PROBE_USAGE = `usage: smpp-bridge probe --host HOST [--port PORT] --system-id ID [options]

Binds to an SMSC, sends enquire_link COUNT times and reports each round trip, like ping.

  --host HOST               SMSC host name or address (required)
  --port PORT               SMSC port (default 2775)
  --system-id ID            system_id to bind with (required)
  --password PASSWORD       password; better: set SMPP_PASSWORD, which keeps it out of shell history
  --bind-type TYPE          trx|transceiver (default), tx|transmitter, rx|receiver
  --system-type TYPE        system_type (default empty)
  --interface-version V     3.4 (default) or 5.0
  --tls                     connect over TLS
  --tls-ca FILE             trust this CA certificate (PEM); implies --tls
  --insecure                do not verify the SMSC's certificate; implies --tls
  --count N                 enquire_links to send (default 4)
  --interval-ms MS          time between enquire_links (default 1000)
  --timeout-ms MS           connect, bind and per-probe timeout (default 5000)
  --json                    print one JSON document instead of text
  -h, --help                show this help

Exit status: 0 bound and every enquire_link answered, 1 failure, 2 usage error. Ctrl-C stops early
and prints the summary.`;

const BIND_TYPES: Record<string, BindCommand> = {
  trx: 'bind_transceiver',
  transceiver: 'bind_transceiver',
  tx: 'bind_transmitter',
  transmitter: 'bind_transmitter',
  rx: 'bind_receiver',
  receiver: 'bind_receiver',
};

const INTERFACE_VERSIONS: Record<string, number> = { '3.4': 0x34, '5.0': 0x50 };

export interface ProbeArgs {
  host: string;
  port: number;
  systemId: string;
  password: string;
  bindCommand: BindCommand;
  systemType: string;
  interfaceVersion: number;
  tls: boolean;
  tlsCaFile: string | undefined;
  insecure: boolean;
  count: number;
  intervalMs: number;
  timeoutMs: number;
  json: boolean;
  help: boolean;
}

/** A bad command line: exit status 2. */
export class ProbeUsageError extends Error {}

const VALUE_FLAGS = new Set([
  'host',
  'port',
  'system-id',
  'password',
  'bind-type',
  'system-type',
  'interface-version',
  'tls-ca',
  'count',
  'interval-ms',
  'timeout-ms',
]);
const BOOLEAN_FLAGS = new Set(['tls', 'insecure', 'json', 'help']);

function integer(flag: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw)) throw new ProbeUsageError(`--${flag}: expected a whole number, got '${raw}'`);
  const n = Number(raw);
  if (n < min || n > max) throw new ProbeUsageError(`--${flag}: expected ${min} to ${max}, got ${raw}`);
  return n;
}

/** Parses the probe command line; throws ProbeUsageError for anything it cannot take. */
export function parseProbeArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): ProbeArgs {
  const given = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h') {
      flags.add('help');
      continue;
    }
    if (!arg.startsWith('--')) throw new ProbeUsageError(`unexpected argument '${arg}'`);
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (BOOLEAN_FLAGS.has(name)) {
      if (eq !== -1) throw new ProbeUsageError(`--${name} takes no value`);
      flags.add(name);
      continue;
    }
    if (!VALUE_FLAGS.has(name)) throw new ProbeUsageError(`unknown option '--${name}'`);
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      if (value === undefined || (value.startsWith('--') && value.length > 2)) {
        throw new ProbeUsageError(`--${name} needs a value`);
      }
      i++;
    }
    if (given.has(name)) throw new ProbeUsageError(`--${name} given twice`);
    given.set(name, value);
  }
  const help = flags.has('help');
  const host = given.get('host') ?? '';
  const systemId = given.get('system-id') ?? '';
  if (!help) {
    if (host === '') throw new ProbeUsageError('--host is required');
    if (systemId === '') throw new ProbeUsageError('--system-id is required');
  }
  if (systemId.length > 15) throw new ProbeUsageError('--system-id: at most 15 characters');
  const password = given.get('password') ?? env.SMPP_PASSWORD ?? '';
  if (password.length > 8) throw new ProbeUsageError('password: at most 8 characters (SMPP limit)');
  const systemType = given.get('system-type') ?? '';
  if (systemType.length > 12) throw new ProbeUsageError('--system-type: at most 12 characters');
  const bindTypeRaw = (given.get('bind-type') ?? 'trx').toLowerCase();
  const bindCommand = BIND_TYPES[bindTypeRaw];
  if (bindCommand === undefined) {
    throw new ProbeUsageError(`--bind-type: expected one of ${Object.keys(BIND_TYPES).join(', ')}`);
  }
  const versionRaw = given.get('interface-version') ?? '3.4';
  const interfaceVersion = INTERFACE_VERSIONS[versionRaw];
  if (interfaceVersion === undefined) throw new ProbeUsageError('--interface-version: expected 3.4 or 5.0');
  const tlsCaFile = given.get('tls-ca');
  const insecure = flags.has('insecure');
  return {
    host,
    port: given.has('port') ? integer('port', given.get('port')!, 1, 65_535) : 2775,
    systemId,
    password,
    bindCommand,
    systemType,
    interfaceVersion,
    tls: flags.has('tls') || tlsCaFile !== undefined || insecure,
    tlsCaFile,
    insecure,
    count: given.has('count') ? integer('count', given.get('count')!, 1, 1_000_000) : 4,
    intervalMs: given.has('interval-ms')
      ? integer('interval-ms', given.get('interval-ms')!, 0, 3_600_000)
      : 1_000,
    timeoutMs: given.has('timeout-ms')
      ? integer('timeout-ms', given.get('timeout-ms')!, 1, 3_600_000)
      : 5_000,
    json: flags.has('json'),
    help,
  };
}

export interface ProbeLine {
  seq: number;
  ok: boolean;
  rttMs: number | null;
  commandStatus: number | null;
  error: string | null;
}

export interface ProbeSummary {
  sent: number;
  received: number;
  lossPercent: number;
  minMs: number | null;
  avgMs: number | null;
  p50Ms: number | null;
  maxMs: number | null;
}

export interface ProbeFailure {
  /**
   * Why, in a word or two: the command_status name of a refused bind (ESME_RINVPASWD), 'timeout',
   * 'connection refused', 'host not found', 'connection closed', 'tls: <code>', 'interrupted'.
   */
  reason: string;
  /** SmppError code (SMPP_ERR_CONNECT, SMPP_ERR_BIND, ...), or SMPP_ERR_INTERRUPTED. */
  code: string;
  /** The command_status name of a refused bind. */
  status: string | null;
  message: string;
}

/** The --json document. */
export interface ProbeReport {
  target: { host: string; port: number; tls: boolean };
  bind: {
    command: BindCommand;
    systemId: string;
    bound: boolean;
    bindMs: number | null;
    smscSystemId: string | null;
    smscInterfaceVersion: string | null;
  };
  probes: ProbeLine[];
  summary: ProbeSummary;
  interrupted: boolean;
  ok: boolean;
  error: ProbeFailure | null;
}

export interface ProbeCommandDeps {
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Stops the run early, like SIGINT (which is listened to when this is not given). */
  signal?: AbortSignal;
  connect?: (options: ConnectOptions) => Promise<Duplex>;
}

const ms3 = (n: number): string => n.toFixed(3);

function versionText(v: number | undefined): string | null {
  if (v === undefined) return null;
  return `${v >> 4}.${v & 0x0f}`;
}

const ERRNO_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'timeout',
};

/** A short reason for a connect failure: errno words, TLS codes, or a timeout. */
function connectReason(error: SmppError): string {
  const code = (error.cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === undefined) return /no answer within/.test(error.message) ? 'timeout' : 'connect failed';
  return ERRNO_REASONS[code] ?? (code.startsWith('E') && !code.startsWith('ERR_') ? code : `tls: ${code}`);
}

/** Why a run failed, in words that name the SMSC. */
function failureOf(error: unknown, where: string, what: string, timeoutMs: number): ProbeFailure {
  if (error instanceof SmppBindError) {
    const info = statusInfo(error.commandStatus);
    return {
      reason: info.name,
      code: error.code,
      status: info.name,
      message: `bind refused by ${where}: ${info.name} (${info.description})`,
    };
  }
  if (error instanceof SmppResponseTimeoutError) {
    return {
      reason: 'timeout',
      code: error.code,
      status: null,
      message: `no ${what} from ${where} within ${timeoutMs} ms`,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  const full = message.includes(where) ? message : `${where}: ${message}`;
  if (!(error instanceof SmppError))
    return { reason: 'error', code: ErrorCode.Probe, status: null, message: full };
  const reason =
    error.code === ErrorCode.Connect
      ? connectReason(error)
      : error.code === ErrorCode.ConnectionClosed
        ? 'connection closed'
        : error.code;
  return { reason, code: error.code, status: null, message: full };
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Races `promise` against `signal`; resolves with 'aborted' if the signal wins. */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | 'aborted'> {
  if (signal.aborted) return Promise.resolve('aborted');
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

export function summarise(lines: readonly ProbeLine[]): ProbeSummary {
  const stats = new RttStats(Math.max(1, lines.length));
  // Every answer counts as received, a refused one (generic_nack, error status) included.
  for (const line of lines) if (line.rttMs !== null) stats.add(line.rttMs);
  const s = stats.summary();
  const sent = lines.length;
  const received = s.count;
  return {
    sent,
    received,
    lossPercent: sent === 0 ? 0 : Math.round(((sent - received) / sent) * 1000) / 10,
    minMs: s.min,
    avgMs: s.mean,
    p50Ms: s.p50,
    maxMs: s.max,
  };
}

export async function runProbeCommand(argv: string[], deps: ProbeCommandDeps = {}): Promise<number> {
  const out = deps.stdout ?? ((t: string) => process.stdout.write(t));
  const err = deps.stderr ?? ((t: string) => process.stderr.write(t));
  let args: ProbeArgs;
  try {
    args = parseProbeArgs(argv, deps.env ?? process.env);
  } catch (error) {
    if (!(error instanceof ProbeUsageError)) throw error;
    err(`probe: ${error.message}\nrun 'smpp-bridge probe --help' for the options\n`);
    return 2;
  }
  if (args.help) {
    out(`${PROBE_USAGE}\n`);
    return 0;
  }
  let ca: Buffer | undefined;
  if (args.tlsCaFile !== undefined) {
    try {
      ca = await readFile(args.tlsCaFile);
    } catch (error) {
      err(
        `probe: --tls-ca: cannot read ${args.tlsCaFile}: ${(error as NodeJS.ErrnoException).code ?? error}\n`,
      );
      return 2;
    }
  }

  // SIGINT stops early (and still prints the summary) unless the caller brings its own signal.
  const controller = new AbortController();
  const signal = deps.signal ?? controller.signal;
  const onSigint = (): void => controller.abort();
  if (!deps.signal) process.once('SIGINT', onSigint);
  try {
    const report = await probeOnce(
      args,
      ca,
      signal,
      deps.connect ?? connectSocket,
      args.json ? () => {} : out,
    );
    if (args.json) out(`${JSON.stringify(report, null, 2)}\n`);
    else printSummary(report, args, out, err);
    return report.ok ? 0 : 1;
  } finally {
    if (!deps.signal) process.off('SIGINT', onSigint);
  }
}

function printSummary(
  report: ProbeReport,
  args: ProbeArgs,
  out: (t: string) => void,
  err: (t: string) => void,
): void {
  const where = `${args.host}:${args.port}`;
  if (report.bind.bound) {
    const s = report.summary;
    out(`\n--- ${where} enquire_link statistics ---\n`);
    out(`${s.sent} sent, ${s.received} received, ${s.lossPercent.toFixed(1)}% loss\n`);
    if (s.received > 0) {
      out(`rtt min/avg/p50/max = ${ms3(s.minMs!)}/${ms3(s.avgMs!)}/${ms3(s.p50Ms!)}/${ms3(s.maxMs!)} ms\n`);
    }
  }
  if (report.error) err(`probe: ${report.error.message}\n`);
}

async function probeOnce(
  args: ProbeArgs,
  ca: Buffer | undefined,
  signal: AbortSignal,
  connect: (options: ConnectOptions) => Promise<Duplex>,
  out: (t: string) => void,
): Promise<ProbeReport> {
  const where = `${args.host}:${args.port}`;
  const report: ProbeReport = {
    target: { host: args.host, port: args.port, tls: args.tls },
    bind: {
      command: args.bindCommand,
      systemId: args.systemId,
      bound: false,
      bindMs: null,
      smscSystemId: null,
      smscInterfaceVersion: null,
    },
    probes: [],
    summary: summarise([]),
    interrupted: false,
    ok: false,
    error: null,
  };
  const interrupted = (): ProbeReport => {
    report.interrupted = true;
    if (!report.bind.bound) {
      report.error = {
        reason: 'interrupted',
        code: ErrorCode.Interrupted,
        status: null,
        message: `${where}: interrupted before bound`,
      };
    }
    return report;
  };

  out(
    `PROBE ${where}${args.tls ? ' (TLS)' : ''} as ${args.systemId} (${args.bindCommand}, SMPP ${versionText(args.interfaceVersion)})\n`,
  );
  const connecting = connect({
    host: args.host,
    port: args.port,
    connectTimeoutMs: args.timeoutMs,
    tls: { enabled: args.tls, ...(ca ? { ca } : {}), rejectUnauthorized: !args.insecure },
  });
  let socket: Duplex;
  try {
    const result = await unlessAborted(connecting, signal);
    if (result === 'aborted') {
      connecting.then(
        (s) => s.destroy(),
        () => {},
      );
      return interrupted();
    }
    socket = result;
  } catch (error) {
    report.error = failureOf(error, where, 'connection', args.timeoutMs);
    return report;
  }

  const session = new SmppSession(socket, {
    role: 'esme',
    enquireLinkIntervalMs: 0,
    enquireLinkTimeoutMs: args.timeoutMs,
    // Misses are reported, never a reason for the session to close itself.
    maxMissedProbes: Number.MAX_SAFE_INTEGER,
    bindTimeoutMs: args.timeoutMs,
    responseTimeoutMs: args.timeoutMs,
    unbindTimeoutMs: Math.min(args.timeoutMs, 5_000),
  });
  try {
    const t0 = performance.now();
    const binding = session.bind(args.bindCommand, {
      system_id: args.systemId,
      password: args.password,
      system_type: args.systemType,
      interface_version: args.interfaceVersion,
    });
    try {
      const result = await unlessAborted(binding, signal);
      if (result === 'aborted') {
        binding.catch(() => {});
        return interrupted();
      }
    } catch (error) {
      report.error = failureOf(error, where, `${args.bindCommand}_resp`, args.timeoutMs);
      return report;
    }
    report.bind.bound = true;
    report.bind.bindMs = performance.now() - t0;
    report.bind.smscSystemId = session.peerSystemId ?? null;
    report.bind.smscInterfaceVersion = versionText(session.peerInterfaceVersion);
    out(`bound to ${session.peerSystemId || '(no system_id)'} in ${ms3(report.bind.bindMs)} ms\n`);

    for (let i = 0; i < args.count; i++) {
      if (signal.aborted) break;
      const sentAt = performance.now();
      const probing = session.probe({ timeoutMs: args.timeoutMs, trigger: 'manual' });
      let line: ProbeLine;
      try {
        const result = await unlessAborted(probing, signal);
        if (result === 'aborted') {
          probing.catch(() => {});
          break;
        }
        line = {
          seq: result.sequenceNumber,
          ok: true,
          rttMs: result.rttMs,
          commandStatus: result.commandStatus,
          error: null,
        };
        const status = result.commandStatus === 0 ? '' : ` status=${statusInfo(result.commandStatus).name}`;
        out(`enquire_link_resp from ${where}: seq=${line.seq} time=${ms3(result.rttMs)} ms${status}\n`);
      } catch (error) {
        if (error instanceof SmppProbeRejectedError) {
          // Answered, but refused: the link is alive, the probe failed.
          line = {
            seq: error.sequenceNumber,
            ok: false,
            rttMs: error.rttMs,
            commandStatus: error.commandStatus,
            error: error.statusName,
          };
          report.probes.push(line);
          out(
            `enquire_link_resp from ${where}: seq=${line.seq} time=${ms3(error.rttMs)} ms status=${error.statusName}\n`,
          );
          if (i + 1 < args.count) await pause(args.intervalMs - (performance.now() - sentAt), signal);
          continue;
        }
        const seq = error instanceof SmppResponseTimeoutError ? error.sequenceNumber : 0;
        if (error instanceof SmppResponseTimeoutError) {
          line = { seq, ok: false, rttMs: null, commandStatus: null, error: 'timeout' };
          report.probes.push(line);
          out(`no enquire_link_resp from ${where}: seq=${seq} (timeout ${args.timeoutMs} ms)\n`);
          if (i + 1 < args.count) await pause(args.intervalMs - (performance.now() - sentAt), signal);
          continue;
        }
        // The connection is gone: no point probing on.
        report.error = failureOf(error, where, 'enquire_link_resp', args.timeoutMs);
        report.probes.push({ seq, ok: false, rttMs: null, commandStatus: null, error: report.error.message });
        break;
      }
      report.probes.push(line);
      if (i + 1 < args.count) await pause(args.intervalMs - (performance.now() - sentAt), signal);
    }
    report.interrupted = signal.aborted;
    report.summary = summarise(report.probes);
    if (report.error === null && report.summary.received < report.summary.sent) {
      const lost = report.summary.sent - report.summary.received;
      report.error = {
        reason: 'timeout',
        code: ErrorCode.ProbeTimeout,
        status: null,
        message: `${where}: ${lost} of ${report.summary.sent} enquire_link unanswered within ${args.timeoutMs} ms`,
      };
    }
    const refused = report.probes.find((p) => !p.ok && p.rttMs !== null);
    if (report.error === null && refused) {
      report.error = {
        reason: refused.error ?? 'rejected',
        code: ErrorCode.ProbeRejected,
        status: refused.error,
        message: `${where}: enquire_link answered with ${refused.error} (the link is alive, the probe was refused)`,
      };
    }
    report.ok = report.error === null;
    return report;
  } finally {
    // Unbind (bounded), or just close when not bound.
    await session.close();
  }
}
