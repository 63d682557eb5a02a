/**
 * Environment variables that override the file (or the demo defaults), as platforms set
 * them: HOST and PORT for the HTTP listener, LOG_LEVEL, and SMPP_BRIDGE_API_TOKENS
 * (comma-separated bearer tokens, added to auth.tokens), SMPP_BRIDGE_STORE_URL (store.url: the
 * PostgreSQL store) and SMPP_BRIDGE_LEASE_OWNER (leases.owner: this replica's name). A variable
 * set to '' counts as unset.
 */

import { isPostgresUrl } from '../store/postgres-url.js';
import type { ConfigIssue } from './config-error.js';
import type { Env } from './interpolate.js';
import { LOG_LEVELS, type LogLevel, TOKEN68 } from './schema.js';
import type { ServiceConfig } from './service-config.js';

export const ENV_OVERRIDES = {
  host: 'HOST',
  port: 'PORT',
  logLevel: 'LOG_LEVEL',
  apiTokens: 'SMPP_BRIDGE_API_TOKENS',
  storeUrl: 'SMPP_BRIDGE_STORE_URL',
  leaseOwner: 'SMPP_BRIDGE_LEASE_OWNER',
} as const;

export interface EnvOverrides {
  host?: string;
  port?: number;
  logLevel?: LogLevel;
  /** Tokens to add to auth.tokens. */
  apiTokens?: string[];
  /** store.url: the PostgreSQL store. */
  storeUrl?: string;
  /** leases.owner: this replica's name (e.g. the pod name). */
  leaseOwner?: string;
}

/** Reads and checks the override variables; a variable set to '' counts as unset. */
export function readEnvOverrides(env: Env): { overrides: EnvOverrides; issues: ConfigIssue[] } {
  const overrides: EnvOverrides = {};
  const issues: ConfigIssue[] = [];
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };

  const host = read(ENV_OVERRIDES.host);
  if (host !== undefined) {
    if (/\s/.test(host))
      issues.push(envIssue(ENV_OVERRIDES.host, `expected a host name or IP address, got "${host}"`));
    else overrides.host = host;
  }

  const port = read(ENV_OVERRIDES.port);
  if (port !== undefined) {
    const value = /^[0-9]{1,5}$/.test(port) ? Number(port) : Number.NaN;
    if (value >= 0 && value <= 65535) overrides.port = value;
    else issues.push(envIssue(ENV_OVERRIDES.port, `expected a port number from 0 to 65535, got "${port}"`));
  }

  const level = read(ENV_OVERRIDES.logLevel);
  if (level !== undefined) {
    if ((LOG_LEVELS as readonly string[]).includes(level)) overrides.logLevel = level as LogLevel;
    else
      issues.push(
        envIssue(ENV_OVERRIDES.logLevel, `expected one of ${LOG_LEVELS.join(', ')}, got "${level}"`),
      );
  }

  const tokens = read(ENV_OVERRIDES.apiTokens);
  if (tokens !== undefined) {
    const list = tokens
      .split(',')
      .map((token) => token.trim())
      .filter((token) => token !== '');
    const bad = list.flatMap((token, index) => (TOKEN68.test(token) ? [] : [index + 1]));
    if (bad.length > 0) {
      // The tokens themselves are secrets: name their positions, never their text.
      const which = bad.length === 1 ? `token ${bad[0]}` : `tokens ${bad.join(', ')}`;
      issues.push(
        envIssue(
          ENV_OVERRIDES.apiTokens,
          `${which} (counting from 1) has characters a bearer token cannot carry; ` +
            "use letters, digits and '-._~+/', optionally ending in '='",
        ),
      );
    } else {
      overrides.apiTokens = list;
    }
  }
  const storeUrl = read(ENV_OVERRIDES.storeUrl);
  if (storeUrl !== undefined) {
    if (isPostgresUrl(storeUrl)) overrides.storeUrl = storeUrl;
    else
      issues.push(
        // The URL may hold a password: never echo it.
        envIssue(
          ENV_OVERRIDES.storeUrl,
          'expected a PostgreSQL URL (postgres://user:password@host:port/database)',
        ),
      );
  }
  const leaseOwner = read(ENV_OVERRIDES.leaseOwner);
  if (leaseOwner !== undefined) {
    if (leaseOwner.length <= 200) overrides.leaseOwner = leaseOwner;
    else issues.push(envIssue(ENV_OVERRIDES.leaseOwner, 'expected a replica name of at most 200 characters'));
  }
  return { overrides, issues };
}

/** Applies checked overrides to `config` in place. */
export function applyEnvOverrides(config: ServiceConfig, overrides: EnvOverrides): void {
  if (overrides.host !== undefined) config.http.host = overrides.host;
  if (overrides.port !== undefined) config.http.port = overrides.port;
  if (overrides.logLevel !== undefined) config.log.level = overrides.logLevel;
  if (overrides.apiTokens !== undefined) {
    config.auth.tokens = [...new Set([...config.auth.tokens, ...overrides.apiTokens])];
  }
  if (overrides.storeUrl !== undefined) config.store.url = overrides.storeUrl;
  if (overrides.leaseOwner !== undefined) config.leases.owner = overrides.leaseOwner;
}

function envIssue(name: string, message: string): ConfigIssue {
  return { path: `env.${name}`, message };
}
