/**
 * SIGTERM sent to `npm start` must reach the service. npm runs the script through `sh -c` and
 * forwards SIGTERM to that shell; a shell that forks `node` dies of it and leaves the service
 * running, orphaned. The scripts `exec` node (the shell becomes the service), and a service
 * started by npm also stops when its parent goes. Both are checked here the way npm runs the
 * script, with src/cli.ts through tsx in place of dist/cli.js (no build in the tests).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';

const children: ChildProcess[] = [];
const pids: number[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function gone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !alive(pid);
}

/**
 * Runs `script` as npm does (`sh -c`, npm's environment), with dist/cli.js swapped for src/cli.ts.
 * npm 11 runs a script as `sh -c <script>` and, on SIGTERM/SIGINT, forwards the signal to that
 * shell only, on every Node version: sending it to the shell here is what npm does.
 */
function runLikeNpm(script: string): {
  shell: ChildProcess;
  msgs: string[];
  /**
   * The service's pid, once it logged its readiness line (it traps SIGTERM before it starts, and
   * listens last). Rejects, with its exit and stderr, if the service's output ends before: a
   * service that died starting (e.g. aborted in a native module) fails here, it does not hang.
   */
  servicePid: Promise<number>;
  /** Resolves when the service's stdout ends: it exited and every line is read. */
  ended: Promise<void>;
} {
  const dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-npm-'));
  dirs.push(dir);
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    `http: { host: 127.0.0.1, port: 0 }\nbinds: []\nstore: { path: ${JSON.stringify(join(dir, 'store.db'))} }\n`,
  );
  const command = script.replace('node dist/cli.js', `"${process.execPath}" --import tsx src/cli.ts`);
  const shell = spawn('sh', ['-c', command], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, npm_lifecycle_event: 'start', SMPP_BRIDGE_CONFIG: config },
  });
  children.push(shell);
  const msgs: string[] = [];
  const lines = createInterface({ input: shell.stdout! });
  const ended = new Promise<void>((resolve) => lines.once('close', () => resolve()));
  let stderr = '';
  shell.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const servicePid = new Promise<number>((resolve, reject) => {
    lines.once('close', () => {
      // Nothing more will come: the exit status follows the end of the output.
      const exited = shell.exitCode !== null || shell.signalCode !== null;
      const status = new Promise<void>((r) => (exited ? r() : shell.once('exit', () => r())));
      void status.then(() =>
        reject(
          new Error(
            `the service ended before its readiness line (exit ${shell.exitCode}, signal ${shell.signalCode}); ` +
              `log: ${msgs.join(' | ')}; stderr: ${stderr.slice(0, 2_000)}`,
          ),
        ),
      );
    });
    lines.on('line', (text) => {
      try {
        const line = JSON.parse(text) as { msg: string; pid: number };
        msgs.push(line.msg);
        if (/^smpp-bridge listening on /.test(line.msg)) {
          pids.push(line.pid);
          resolve(line.pid);
        }
      } catch {
        // not a log line
      }
    });
  });
  return { shell, msgs, servicePid, ended };
}

const startScript = (): string =>
  (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts.start ??
  '';

// No real-time bound of their own: the service starts through tsx, which takes a while on a loaded
// machine, and shuts down within its own configured bounds; the waits below are eventual, and the
// timeout only catches a hang (it is long enough for two suites running at once).
describe('npm start and signals', () => {
  it('the start script execs node, so the SIGTERM npm forwards to its shell reaches the service', {
    timeout: 120_000,
  }, async () => {
    expect(startScript()).toMatch(/node dist\/cli\.js serve/);
    const run = runLikeNpm(startScript());
    const pid = await run.servicePid;
    // exec: the shell became the service, so the signal npm sends the shell is the service's.
    expect(pid).toBe(run.shell.pid);
    run.shell.kill('SIGTERM');
    await run.ended;
    expect(await gone(pid, 30_000)).toBe(true);
    expect(run.msgs).toContain('SIGTERM received: shutting down');
    expect(run.msgs).toContain('stopped');
  });

  it('a service started by npm shuts down gracefully when the shell between them dies', {
    timeout: 120_000,
  }, async () => {
    // `; true` keeps sh from exec-ing node: the shape that left the service orphaned.
    const run = runLikeNpm(`${startScript().replace(/^exec /, '')}; true`);
    const pid = await run.servicePid;
    expect(pid).not.toBe(run.shell.pid);
    run.shell.kill('SIGKILL');
    await run.ended;
    expect(await gone(pid, 30_000)).toBe(true);
    expect(run.msgs).toContain('the parent process exited (e.g. npm stopped): shutting down');
    expect(run.msgs).toContain('stopped');
  });
});
