// The parent's handle on one server process of the HTTP benchmark (server-child.ts).
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromChild, ServerKind, ToChild } from './messages.js';

const CHILD = fileURLToPath(new URL('./server-child.ts', import.meta.url));

export interface ServerProcess {
  kind: ServerKind;
  port: number;
  /** CPU time (user + system) the server process has used since it started, ms. */
  cpuMs(): Promise<number>;
  /** enquire_link PDUs the simulator received from the live sessions of that system_id (ours only). */
  enquireLinks(systemId: string): Promise<{ enquireLinks: number; sessions: number }>;
  /** Asks the process to close everything and exit; resolves once it exited. */
  stop(): Promise<void>;
}

/**
 * Forks a server. Both kinds get the same runtime flags (tsx, plus `extraExecArgv`), so any cost
 * the loader adds falls on both sides alike.
 */
export function startServer(kind: ServerKind, extraExecArgv: string[] = []): Promise<ServerProcess> {
  const child: ChildProcess = fork(CHILD, [kind], {
    execArgv: ['--import', 'tsx', ...extraExecArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // One question at a time: the bench never has two in flight.
  const ask = (msg: ToChild): Promise<FromChild> => {
    const reply = new Promise<FromChild>((resolve) => child.once('message', resolve));
    child.send(msg);
    return reply;
  };
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${kind} server exited (${code}) before it was ready`)));
    child.once('message', (msg: FromChild) => {
      if ('failed' in msg) {
        reject(new Error(`${kind} server failed to start: ${msg.failed}`));
        return;
      }
      if (!('ready' in msg)) {
        reject(new Error(`${kind} server: unexpected first message`));
        return;
      }
      resolve({
        kind,
        port: msg.ready.port,
        cpuMs: async () => {
          const m = await ask({ cmd: 'cpu-read' });
          return 'cpuMs' in m ? m.cpuMs : Number.NaN;
        },
        enquireLinks: async (systemId) => {
          const m = await ask({ cmd: 'enquire-links', systemId });
          return 'enquireLinks' in m ? m : { enquireLinks: Number.NaN, sessions: 0 };
        },
        stop: async () => {
          if (child.exitCode === null && child.connected) child.send({ cmd: 'exit' } satisfies ToChild);
          await exited;
        },
      });
    });
  });
}
