/**
 * The simulator's YAML config file (config/simulator.example.yaml documents every key):
 * where it listens, its accounts, receipts, faults switched on from the start, its own
 * enquire_link, TLS and the control API. String values may use `${VAR}` and `${VAR:-default}`
 * from the environment (passwords). Every problem is reported at once with its key path and
 * line, as a ConfigError. Keys not given stay undefined: command-line flags and the
 * simulator's defaults fill them in.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type Static, Type } from 'typebox';
import { ConfigError, type ConfigIssue } from '../config/config-error.js';
import { type Env, interpolateTree } from '../config/interpolate.js';
import { LOG_LEVELS, type LogLevel } from '../config/schema.js';
import { parseYaml } from '../config/yaml-source.js';
import { DEFAULT_MAX_PDU_LENGTH } from '../protocol/constants.js';
import { checkAccounts } from './accounts.js';
import { type CaseScope, checkScopedCase, type SimCase } from './cases.js';
import type { SimIssue } from './errors.js';
import { checkFault, checkScope, type Fault, type FaultScope } from './faults.js';
import { checkReceiptOptions, type ReceiptOptions } from './receipts.js';
import type { SimulatorOptions } from './simulator.js';
import { MAX_TIMER_MS } from './timer-set.js';
import { issuesOf, pathOf, segmentsOf, strict } from './validate.js';

const Host = Type.String({ pattern: '^\\S+$', expected: 'a host name or IP address' });
const Port = Type.Integer({ minimum: 0, maximum: 65_535 });
const Ms = (minimum: number) => Type.Integer({ minimum, maximum: MAX_TIMER_MS });

export const SimulatorFileSchema = Type.Object(
  {
    host: Type.Optional(Host),
    port: Type.Optional(Port),
    systemId: Type.Optional(Type.String({ minLength: 1, maxLength: 15 })),
    log: Type.Optional(
      Type.Object({ level: Type.Optional(Type.Union(LOG_LEVELS.map((l) => Type.Literal(l)))) }, strict),
    ),
    control: Type.Optional(
      Type.Object(
        { enabled: Type.Optional(Type.Boolean()), host: Type.Optional(Host), port: Type.Optional(Port) },
        strict,
      ),
    ),
    enquireLinkIntervalMs: Type.Optional(Ms(0)),
    enquireLinkTimeoutMs: Type.Optional(Ms(1)),
    sessionInitTimeoutMs: Type.Optional(Ms(0)),
    maxPduLength: Type.Optional(Type.Integer({ minimum: 64, maximum: 16 * DEFAULT_MAX_PDU_LENGTH })),
    windowSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    messageIdFormat: Type.Optional(Type.Union([Type.Literal('hex'), Type.Literal('decimal')])),
    maxMessages: Type.Optional(Type.Integer({ minimum: 1 })),
    maxConnections: Type.Optional(Type.Integer({ minimum: 1 })),
    tls: Type.Optional(
      Type.Object(
        {
          key: Type.String({ minLength: 1, expected: 'the path of a PEM private key' }),
          cert: Type.String({ minLength: 1, expected: 'the path of a PEM certificate' }),
          ca: Type.Optional(Type.String({ minLength: 1, expected: 'the path of a PEM CA bundle' })),
          requestCert: Type.Optional(Type.Boolean()),
        },
        strict,
      ),
    ),
    // Checked by their own modules, which also turn status names into codes.
    accounts: Type.Optional(Type.Unknown()),
    receipts: Type.Optional(Type.Unknown()),
    faults: Type.Optional(Type.Array(Type.Unknown())),
    cases: Type.Optional(Type.Array(Type.Unknown())),
    maxDeliveryRecords: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  },
  strict,
);
type SimulatorFileInput = Static<typeof SimulatorFileSchema>;

export interface SimulatorFileConfig {
  /** Options for createSimulator (no logger); keys the file does not set are absent. */
  simulator: Omit<SimulatorOptions, 'logger'>;
  control: { enabled?: boolean; host?: string; port?: number };
  logLevel?: LogLevel;
  /** Absolute path of the file, when read from one. */
  source?: string;
}

export interface ParseSimulatorConfigOptions {
  /** Where relative TLS paths start; default the current directory. */
  baseDir?: string;
  source?: string;
  env?: Env;
}

export function parseSimulatorConfig(
  text: string,
  options: ParseSimulatorConfigOptions = {},
): SimulatorFileConfig {
  const yaml = parseYaml(text);
  if (yaml.issues.length > 0) throw new ConfigError(yaml.issues, options.source);
  const toConfigIssue = (issue: SimIssue): ConfigIssue => {
    const line = issue.path === '' ? undefined : yaml.lineOf(segmentsOf(issue.path));
    return { path: issue.path, message: issue.message, ...(line === undefined ? {} : { line }) };
  };
  const root = yaml.value ?? {};
  const interpolated = interpolateTree(root, options.env ?? process.env);
  if (interpolated.issues.length > 0) {
    throw new ConfigError(
      interpolated.issues.map((i) => toConfigIssue({ path: pathOf(i.path), message: i.message })),
      options.source,
    );
  }
  const value = interpolated.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(
      [{ path: '', message: 'the file must be a YAML mapping of settings' }],
      options.source,
    );
  }
  const issues: SimIssue[] = issuesOf(SimulatorFileSchema, value);
  const file = value as SimulatorFileInput;
  const simulator: Omit<SimulatorOptions, 'logger'> = {};

  if (file.accounts !== undefined) {
    const checked = checkAccounts(file.accounts, ['accounts']);
    issues.push(...checked.issues);
    if (checked.accounts) simulator.accounts = checked.accounts;
  }
  if (file.receipts !== undefined) {
    const receiptIssues = checkReceiptOptions(file.receipts, ['receipts']);
    issues.push(...receiptIssues);
    if (receiptIssues.length === 0) simulator.receipts = file.receipts as ReceiptOptions;
  }
  if (Array.isArray(file.faults)) {
    const faults: { fault: Fault; scope?: FaultScope }[] = [];
    file.faults.forEach((entry, i) => {
      // An entry is a fault with an optional `scope` beside its `kind`.
      const isMapping = entry !== null && typeof entry === 'object' && !Array.isArray(entry);
      const { scope, ...fault } = isMapping ? (entry as Record<string, unknown>) : { scope: undefined };
      const f = checkFault(isMapping ? fault : entry, ['faults', i]);
      const s = checkScope(scope, ['faults', i, 'scope']);
      issues.push(...f.issues, ...s.issues);
      if (f.fault && s.scope) faults.push({ fault: f.fault, scope: s.scope });
    });
    simulator.faults = faults;
  }
  if (Array.isArray(file.cases)) {
    const cases: { case: SimCase; scope: CaseScope }[] = [];
    file.cases.forEach((entry, i) => {
      const checked = checkScopedCase(entry, ['cases', i]);
      issues.push(...checked.issues);
      if (checked.entry) cases.push(checked.entry);
    });
    simulator.cases = cases;
  }
  if (file.tls) {
    const baseDir = options.baseDir ?? process.cwd();
    const read = (key: 'key' | 'cert' | 'ca'): string | undefined => {
      const path = file.tls?.[key];
      if (path === undefined) return undefined;
      try {
        const pem = readFileSync(resolve(baseDir, path), 'utf8');
        if (!pem.includes('-----BEGIN ')) {
          issues.push({ path: `tls.${key}`, message: `"${path}" is not a PEM file` });
          return undefined;
        }
        return pem;
      } catch (error) {
        issues.push({
          path: `tls.${key}`,
          message: `cannot read "${path}": ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        });
        return undefined;
      }
    };
    const key = read('key');
    const cert = read('cert');
    const ca = read('ca');
    if (key && cert) {
      simulator.tls = {
        key,
        cert,
        ...(ca ? { ca } : {}),
        ...(file.tls.requestCert !== undefined ? { requestCert: file.tls.requestCert } : {}),
      };
    }
  }
  if (issues.length > 0) {
    // In file order, as an operator reads them.
    const located = issues.map(toConfigIssue).sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    throw new ConfigError(located, options.source);
  }

  for (const key of [
    'host',
    'port',
    'systemId',
    'enquireLinkIntervalMs',
    'enquireLinkTimeoutMs',
    'sessionInitTimeoutMs',
    'maxPduLength',
    'windowSize',
    'messageIdFormat',
    'maxMessages',
    'maxConnections',
    'maxDeliveryRecords',
  ] as const) {
    if (file[key] !== undefined) (simulator as Record<string, unknown>)[key] = file[key];
  }
  return {
    simulator,
    control: { ...(file.control ?? {}) },
    ...(file.log?.level ? { logLevel: file.log.level } : {}),
    ...(options.source ? { source: options.source } : {}),
  };
}

/** Reads and parses a config file; TLS paths are relative to its directory. Throws ConfigError. */
export function loadSimulatorConfig(path: string, env?: Env): SimulatorFileConfig {
  const source = resolve(path);
  let text: string;
  try {
    text = readFileSync(source, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError([{ path: '', message: `cannot read the config file ${source}: ${code}` }], source);
  }
  return parseSimulatorConfig(text, { source, baseDir: dirname(source), ...(env ? { env } : {}) });
}
