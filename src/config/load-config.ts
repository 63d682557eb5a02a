/**
 * Entry point of the config layer: find the file (`--config FILE` or SMPP_BRIDGE_CONFIG),
 * parse the YAML, substitute `${ENV}` references, validate, resolve defaults and apply the
 * environment overrides. Any problem throws one ConfigError listing all of them. No file
 * at all means demo mode.
 *
 * Pipeline: YAML → drop `key: ~` → interpolate → coerce interpolated numbers/booleans →
 * schema + cross-field rules + TLS files → resolve → env overrides.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { coerceSubstituted } from './coerce.js';
import { ConfigError, type ConfigIssue } from './config-error.js';
import { formatPath } from './config-path.js';
import { crossFieldIssues } from './config-rules.js';
import { applyEnvOverrides, readEnvOverrides } from './env-overrides.js';
import { type Env, interpolateTree } from './interpolate.js';
import { resolveConfig } from './resolve-config.js';
import { type ConfigFileInput, ConfigFileSchema } from './schema.js';
import { type PathIssue, schemaIssues } from './schema-issues.js';
import { demoConfig, type ServiceConfig } from './service-config.js';
import { readTlsFiles } from './tls-files.js';
import { parseYaml } from './yaml-source.js';

/** The environment variable naming the config file when `--config` is not given. */
export const CONFIG_ENV_VAR = 'SMPP_BRIDGE_CONFIG';

export interface LoadConfigOptions {
  /** Command-line arguments to look for `--config FILE` / `--config=FILE` in. */
  argv?: readonly string[];
  /** A path the caller already parsed; wins over argv and the environment. */
  configPath?: string;
  env: Env;
  /** Directory relative config paths are resolved against (default: process.cwd()). */
  cwd?: string;
}

/**
 * The service's configuration. Reads the file named by `configPath`, `--config` in argv or
 * SMPP_BRIDGE_CONFIG; with none of them, returns the demo-mode config. Throws ConfigError.
 */
export function loadConfig(options: LoadConfigOptions): ServiceConfig {
  const file = configPathFrom(options);
  if (file === undefined) {
    const { overrides, issues } = readEnvOverrides(options.env);
    throwIfAny(issues);
    const config = demoConfig();
    applyEnvOverrides(config, overrides);
    return config;
  }
  const absolute = resolve(options.cwd ?? process.cwd(), file);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : String(error);
    throw new ConfigError(
      [{ path: '', message: `cannot read config file ${absolute}: ${reason}` }],
      absolute,
      {
        cause: error,
      },
    );
  }
  const config = parseConfigText(text, { env: options.env, baseDir: dirname(absolute), source: absolute });
  config.source = absolute;
  return config;
}

/** Which config file to read, if any: `configPath`, else `--config` in argv, else SMPP_BRIDGE_CONFIG. */
export function configPathFrom(options: LoadConfigOptions): string | undefined {
  if (options.configPath !== undefined && options.configPath !== '') return options.configPath;
  const argv = options.argv ?? [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg.startsWith('--config=')) return nonEmptyFlag(arg.slice('--config='.length));
    if (arg === '--config') return nonEmptyFlag(argv[i + 1]);
  }
  const fromEnv = options.env[CONFIG_ENV_VAR];
  return fromEnv === undefined || fromEnv.trim() === '' ? undefined : fromEnv;
}

function nonEmptyFlag(value: string | undefined): string {
  if (value === undefined || value === '' || value.startsWith('--')) {
    throw new ConfigError([
      { path: '', message: '--config needs a file path, e.g. --config config/example.yaml' },
    ]);
  }
  return value;
}

export interface ParseConfigOptions {
  env: Env;
  /** Directory TLS file paths are relative to (the config file's directory). */
  baseDir: string;
  /** Named in error messages. */
  source?: string;
}

/** Parses and validates config text (YAML) into a ServiceConfig; env overrides included. Throws ConfigError. */
export function parseConfigText(text: string, options: ParseConfigOptions): ServiceConfig {
  const yaml = parseYaml(text);
  if (yaml.issues.length > 0) throw new ConfigError(yaml.issues, options.source);
  const located = (issues: readonly PathIssue[]): ConfigIssue[] =>
    issues.map(({ path, message }) => ({ path: formatPath(path), message, line: yaml.lineOf(path) }));

  if (yaml.value === null || yaml.value === undefined) {
    // An empty file (or only comments, or only `---`) is almost always a mistake: starting a
    // service with no binds that reports ready on every interface would hide it.
    throw new ConfigError(
      [
        {
          path: '',
          message:
            'the config file is empty (no keys, only comments or ---); write at least `binds:` (see config/example.yaml), or give no config for demo mode',
        },
      ],
      options.source,
    );
  }
  const tree = dropNulls(yaml.value);
  if (!isRecord(tree)) {
    const found = Array.isArray(tree) ? 'a list' : `a ${typeof tree}`;
    throw new ConfigError(
      [{ path: '', message: `the file must be a mapping of sections (http, binds, ...), found ${found}` }],
      options.source,
    );
  }
  const env = readEnvOverrides(options.env);
  const interpolated = interpolateTree(tree, options.env);
  coerceSubstituted(interpolated.value, ConfigFileSchema, interpolated.substituted);
  const failed = new Set(interpolated.issues.map(({ path }) => formatPath(path)));
  const tls = readTlsFiles(
    isRecord(interpolated.value) ? interpolated.value.binds : undefined,
    options.baseDir,
  );
  const issues = [
    ...located(interpolated.issues),
    // A value whose interpolation failed is reported once, not again as a type error.
    ...located(schemaIssues(ConfigFileSchema, interpolated.value)).filter(({ path }) => !failed.has(path)),
    ...located(crossFieldIssues(interpolated.value)),
    ...located(tls.issues),
    ...env.issues,
  ];
  throwIfAny(sortByLine(issues), options.source);

  const config = resolveConfig(interpolated.value as ConfigFileInput, tls.byBind);
  applyEnvOverrides(config, env.overrides);
  return config;
}

function throwIfAny(issues: readonly ConfigIssue[], source?: string): void {
  if (issues.length > 0) throw new ConfigError(issues, source);
}

function sortByLine(issues: ConfigIssue[]): ConfigIssue[] {
  return issues
    .map((issue, order) => ({ issue, order }))
    .sort(
      (a, b) =>
        (a.issue.line ?? Number.MAX_SAFE_INTEGER) - (b.issue.line ?? Number.MAX_SAFE_INTEGER) ||
        a.order - b.order,
    )
    .map(({ issue }) => issue);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `key:` with no value (or `~`) means "not set", so a section can be left with its keys commented out. */
function dropNulls(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(dropNulls);
  if (!isRecord(node)) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (value === null) continue;
    Object.defineProperty(out, key, {
      value: dropNulls(value),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}
