/**
 * A throwaway PostgreSQL server for tests and benchmarks, from the Debian packages
 * (/usr/lib/postgresql/<version>/bin): `initdb` into a fresh temp dir, `pg_ctl start` on a free
 * loopback port with its unix socket in that dir, trust auth for loopback only. When running as
 * root the server runs as the `postgres` user (initdb refuses root) and the dir is chowned to it.
 *
 * Nothing is left behind: `stop()` stops the server and removes the dir, and a detached
 * watchdog does the same when the process that started it dies without calling `stop()`
 * (a test run killed with SIGKILL).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:<port>/<database> */
  url(database?: string): string;
  port: number;
  dir: string;
  /** Creates a database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /**
   * Stops the server the way a crash does (`pg_ctl stop -m immediate`: no checkpoint, clients cut
   * off) and starts it again on the same port: it recovers from its WAL.
   */
  crashAndRestart(): Promise<void>;
  stop(): Promise<void>;
}

export interface PostgresServerOptions {
  /** fsync and synchronous_commit on (a commit survives power loss), as in production. default false. */
  durable?: boolean;
  maxConnections?: number;
}

/** The directory with initdb, pg_ctl and postgres, or undefined when PostgreSQL is not installed. */
export function findPostgresBin(): string | undefined {
  // SMPP_BRIDGE_PG_BIN: another installation's bin directory (one without pg_ctl: none).
  const env = process.env.SMPP_BRIDGE_PG_BIN;
  if (env) return existsSync(join(env, 'pg_ctl')) ? env : undefined;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

/**
 * Why PG tests cannot run here, or undefined when they can. The test files skip with this
 * reason, printed loudly; under CI (CI=true, where .ci/run installs PostgreSQL) they fail instead.
 */
export function postgresUnavailable(): string | undefined {
  const reason = whyUnavailable();
  if (reason === undefined) return undefined;
  if (process.env.CI === 'true') throw new Error(`PostgreSQL tests cannot run under CI: ${reason}`);
  console.warn(`\n*** PostgreSQL tests SKIPPED: ${reason} ***\n`);
  return reason;
}

function whyUnavailable(): string | undefined {
  if (findPostgresBin() === undefined) {
    return 'PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/pg_ctl): apt-get install postgresql';
  }
  if (process.getuid?.() === 0 && spawnSync('id', ['-u', 'postgres']).status !== 0) {
    return 'running as root, but there is no `postgres` user to run the server as';
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export async function startPostgres(options: PostgresServerOptions = {}): Promise<PostgresServer> {
  const bin = findPostgresBin();
  if (bin === undefined) throw new Error(postgresUnavailable());
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-pg-'));
  const data = join(dir, 'data');
  // As root: run the server's tools as `postgres`, who must own the dir.
  const run = (tool: string, args: string[]) => {
    const [cmd, argv] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]]
      : [join(bin, tool), args];
    return execFileSync(cmd as string, argv as string[], { stdio: 'pipe', cwd: dir });
  };
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(dir, uid, gid);
  }
  // The watchdog: once this process is gone, stop the server at once and remove the dir.
  const watchdog = spawn(
    'sh',
    [
      '-c',
      `while kill -0 ${process.pid} 2>/dev/null && [ -d "$1" ]; do sleep 1; done
       if [ -f "$1/data/postmaster.pid" ]; then kill -QUIT "$(head -n 1 "$1/data/postmaster.pid")" 2>/dev/null; sleep 1; fi
       rm -rf "$1"`,
      'pg-watchdog',
      dir,
    ],
    { detached: true, stdio: 'ignore' },
  );
  watchdog.unref();
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync']);
    const durable = options.durable ?? false;
    const settings = [
      `-c listen_addresses=127.0.0.1`,
      `-c unix_socket_directories=${dir}`,
      `-c max_connections=${options.maxConnections ?? 60}`,
      `-c shared_buffers=32MB`,
      `-c fsync=${durable ? 'on' : 'off'}`,
      `-c synchronous_commit=${durable ? 'on' : 'off'}`,
      `-c full_page_writes=${durable ? 'on' : 'off'}`,
    ];
    let port = 0;
    const start = () =>
      run('pg_ctl', [
        '-D',
        data,
        '-l',
        join(dir, 'server.log'),
        '-w',
        '-t',
        '60',
        '-o',
        `-p ${port} ${settings.join(' ')}`,
        'start',
      ]);
    for (let attempt = 0; ; attempt++) {
      port = await freePort();
      try {
        start();
        break;
      } catch (error) {
        // Another process took the port between freePort() and the server's bind: try another.
        if (attempt >= 3) throw new Error(`pg_ctl start failed: ${logOf(dir)}`, { cause: error });
      }
    }
    const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
    let stopped = false;
    return {
      url,
      port,
      dir,
      async createDatabase(name) {
        const client = new pg.Client({ connectionString: url() });
        await client.connect();
        try {
          await client.query(`CREATE DATABASE "${name.replaceAll('"', '')}"`);
        } finally {
          await client.end();
        }
        return url(name);
      },
      async crashAndRestart() {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop']);
        start();
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        try {
          run('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop']);
        } finally {
          remove();
        }
      },
    };
  } catch (error) {
    const pidFile = join(data, 'postmaster.pid');
    if (existsSync(pidFile)) {
      try {
        process.kill(Number(readFileSync(pidFile, 'utf8').split('\n')[0]), 'SIGQUIT');
      } catch {
        // already gone
      }
    }
    remove();
    throw error;
  }
}

function logOf(dir: string): string {
  try {
    return readFileSync(join(dir, 'server.log'), 'utf8').slice(-2000);
  } catch {
    return '(no server log)';
  }
}
