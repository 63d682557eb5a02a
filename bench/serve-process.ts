/**
 * The processes the end-to-end benches run, shared by bench/messages, bench/inbound and
 * bench/binds:
 *   - the real service, `node dist/cli.js serve --config <file>` in a checkout (build it first),
 *     its log drained from a pipe (a full pipe would block it); `SERVE_NODE_ARGS` passes flags to
 *     its node (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof": profile it in place);
 *   - an SMSC child: a bench's `smsc-child.ts` forked with tsx, which sends `{ ready: { port } }`
 *     first and then answers the bench's messages over IPC.
 * Every wait is bounded.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ServeProcess {
  child: ChildProcess;
  pid: number;
  /** The HTTP base URL from the service's listening line. */
  url: string;
  /** Resolves with the exit code once the service exited. */
  exited: Promise<number | null>;
}

const LISTEN_TIMEOUT_MS = 60_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts the service in `cwd`; resolves once it logged the URL it listens on. */
export function startServe(cwd: string, configPath: string): Promise<ServeProcess> {
  const nodeArgs = (process.env.SERVE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, 'dist/cli.js', 'serve', '--config', configPath], {
    cwd,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`serve did not listen within ${LISTEN_TIMEOUT_MS / 1_000} s`)),
      LISTEN_TIMEOUT_MS,
    );
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code}) before it listened`));
    });
    // The log is read to its end; the first line with a url is the listening line.
    let url: string | null = null;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (url !== null || !line.includes('"url"')) return;
      try {
        const parsed = JSON.parse(line) as { url?: string };
        if (typeof parsed.url === 'string') {
          url = parsed.url;
          clearTimeout(timer);
          resolve({ child, pid: child.pid!, url, exited });
        }
      } catch {
        // not a log line of ours
      }
    });
  });
}

/** Polls `url`/readyz until it answers 200; throws after `timeoutMs`. */
export async function waitReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const res = await fetch(`${url}/readyz`).catch(() => null);
    if (res?.status === 200) return;
    await sleep(100);
  }
  throw new Error(`${url}/readyz not 200 within ${timeoutMs} ms`);
}

/** SIGTERM, then SIGKILL if the service has not exited within `killAfterMs`; resolves with its exit code. */
export async function stopServe(service: ServeProcess, killAfterMs = 30_000): Promise<number | null> {
  service.child.kill('SIGTERM');
  const killer = setTimeout(() => service.child.kill('SIGKILL'), killAfterMs);
  try {
    return await service.exited;
  } finally {
    clearTimeout(killer);
  }
}

export interface SmscChild<To, From> {
  child: ChildProcess;
  /** The port the child's simulator listens on (from its ready message). */
  port: number;
  send(msg: To): void;
  /** Sends `msg` and resolves with the child's next message that `is` accepts. */
  ask<R extends From>(msg: To, is: (m: From) => m is R): Promise<R>;
}

/** Forks `modulePath` with tsx; resolves once it sent `{ ready: { port } }`. */
export function forkSmsc<To, From>(
  modulePath: string,
  options: { args?: string[]; nodeArgs?: string[] } = {},
): Promise<SmscChild<To, From>> {
  const child = fork(modulePath, options.args ?? [], {
    execArgv: [...(options.nodeArgs ?? []), '--import', 'tsx'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the SMSC child exited (${code})`)));
    child.once('message', (msg: unknown) => {
      const ready = (msg as { ready?: { port?: unknown } }).ready;
      if (typeof ready?.port !== 'number') {
        reject(new Error('unexpected first message from the SMSC child'));
        return;
      }
      resolve({
        child,
        port: ready.port,
        send: (m) => child.send(m as object),
        ask<R extends From>(m: To, is: (reply: From) => reply is R): Promise<R> {
          return new Promise((done) => {
            const onMessage = (reply: From) => {
              if (!is(reply)) return;
              child.off('message', onMessage);
              done(reply);
            };
            child.on('message', onMessage);
            child.send(m as object);
          });
        },
      });
    });
  });
}
