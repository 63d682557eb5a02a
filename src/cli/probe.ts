/**
 * `smpp-bridge probe`: ping for SMPP, as a command. Parses the command line, runs the probe of
 * src/binds/probe.ts, prints each round trip and a summary (or one JSON document), and resolves
 * 0 bound and every enquire_link answered, 1 failure (with the reason), 2 usage error. Ctrl-C
 * stops early and still prints the summary.
 */
import type { Duplex } from 'node:stream';
import { type ProbeArgs, type ProbeReport, probeOnce } from '../binds/probe.js';
import { bindFieldMaxChars } from '../protocol/layouts.js';
import { type ConnectOptions, connectSocket } from '../session/connect.js';
import type { BindCommand } from '../session/session.js';
import { type ClientCommandDeps, ExitCode, parseCommandArgs, runClientCommand, UsageError } from './args.js';

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

const OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string' },
  'system-id': { type: 'string' },
  password: { type: 'string' },
  'bind-type': { type: 'string' },
  'system-type': { type: 'string' },
  'interface-version': { type: 'string' },
  'tls-ca': { type: 'string' },
  count: { type: 'string' },
  'interval-ms': { type: 'string' },
  'timeout-ms': { type: 'string' },
  tls: { type: 'boolean' },
  insecure: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const BIND_TYPES: Record<string, BindCommand> = {
  trx: 'bind_transceiver',
  transceiver: 'bind_transceiver',
  tx: 'bind_transmitter',
  transmitter: 'bind_transmitter',
  rx: 'bind_receiver',
  receiver: 'bind_receiver',
};

const INTERFACE_VERSIONS: Record<string, number> = { '3.4': 0x34, '5.0': 0x50 };

/** The SMPP length limits of the bind fields, from the protocol layouts (octets include the NUL). */
const MAX_CHARS = {
  systemId: bindFieldMaxChars('system_id'),
  password: bindFieldMaxChars('password'),
  systemType: bindFieldMaxChars('system_type'),
};

function integer(flag: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${flag}: expected a whole number, got '${raw}'`);
  const n = Number(raw);
  if (n < min || n > max) throw new UsageError(`--${flag}: expected ${min} to ${max}, got ${raw}`);
  return n;
}

function atMost(what: string, value: string, max: number): string {
  if (value.length > max) throw new UsageError(`${what}: at most ${max} characters (SMPP limit)`);
  return value;
}

/** Parses the probe command line; throws UsageError for anything it cannot take. */
export function parseProbeArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): ProbeArgs {
  const values = parseCommandArgs(argv, OPTIONS);
  const help = values.help === true;
  const host = values.host ?? '';
  const systemId = values['system-id'] ?? '';
  if (!help) {
    if (host === '') throw new UsageError('--host is required');
    if (systemId === '') throw new UsageError('--system-id is required');
  }
  const bindCommand = BIND_TYPES[(values['bind-type'] ?? 'trx').toLowerCase()];
  if (bindCommand === undefined) {
    throw new UsageError(`--bind-type: expected one of ${Object.keys(BIND_TYPES).join(', ')}`);
  }
  const interfaceVersion = INTERFACE_VERSIONS[values['interface-version'] ?? '3.4'];
  if (interfaceVersion === undefined) throw new UsageError('--interface-version: expected 3.4 or 5.0');
  const tlsCaFile = values['tls-ca'];
  const insecure = values.insecure === true;
  return {
    host,
    port: integer('port', values.port, 2775, 1, 65_535),
    systemId: atMost('--system-id', systemId, MAX_CHARS.systemId),
    password: atMost('password', values.password ?? env.SMPP_PASSWORD ?? '', MAX_CHARS.password),
    bindCommand,
    systemType: atMost('--system-type', values['system-type'] ?? '', MAX_CHARS.systemType),
    interfaceVersion,
    tls: values.tls === true || tlsCaFile !== undefined || insecure,
    tlsCaFile,
    insecure,
    count: integer('count', values.count, 4, 1, 1_000_000),
    intervalMs: integer('interval-ms', values['interval-ms'], 1_000, 0, 3_600_000),
    timeoutMs: integer('timeout-ms', values['timeout-ms'], 5_000, 1, 3_600_000),
    json: values.json === true,
    help,
  };
}

export interface ProbeCommandDeps extends ClientCommandDeps {
  connect?: (options: ConnectOptions) => Promise<Duplex>;
}

const ms3 = (n: number): string => n.toFixed(3);

export function runProbeCommand(argv: string[], deps: ProbeCommandDeps = {}): Promise<number> {
  return runClientCommand(
    'probe',
    PROBE_USAGE,
    argv,
    deps,
    parseProbeArgs,
    async ({ args, ca, signal, out, err }) => {
      const report = await probeOnce(
        args,
        ca,
        signal,
        deps.connect ?? connectSocket,
        args.json ? () => {} : out,
      );
      if (args.json) out(`${JSON.stringify(report, null, 2)}\n`);
      else printSummary(report, args, out, err);
      return report.ok ? ExitCode.Ok : ExitCode.Failure;
    },
  );
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
