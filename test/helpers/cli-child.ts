/**
 * Runs `smpp-bridge <command>` (src/cli.ts through tsx) as a child process, as an operator would,
 * and reads its pino log lines: wait for a line, read fields from it, wait for the exit.
 * Every child started here is killed by `killAllChildren()` (call it in afterEach).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface LogLine {
  level: number;
  msg: string;
  port?: number;
  url?: string;
  [key: string]: unknown;
}

export interface CliChild {
  process: ChildProcess;
  lines: LogLine[];
  /** Resolves with the first log line whose msg matches (already seen or still to come). */
  line(match: RegExp, timeoutMs?: number): Promise<LogLine>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

const children: ChildProcess[] = [];

export function killAllChildren(): void {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): CliChild {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  children.push(child);
  const lines: LogLine[] = [];
  const waiters: { match: RegExp; resolve: (l: LogLine) => void }[] = [];
  let err = '';
  child.stderr?.on('data', (c: Buffer) => {
    err += c.toString();
  });
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      return;
    }
    lines.push(line);
    for (const w of waiters.splice(0)) {
      if (w.match.test(line.msg)) w.resolve(line);
      else waiters.push(w);
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    process: child,
    lines,
    line(match, timeoutMs = 60_000) {
      const seen = lines.find((l) => match.test(l.msg));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no log line ${match} (stderr: ${err})`)), timeoutMs);
        waiters.push({
          match,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
    exited,
    stderr: () => err,
  };
}
