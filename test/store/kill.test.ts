/**
 * A real crash: a child acknowledges ids only after their commit resolved, is killed with
 * SIGKILL in the middle of a burst, and every id it acknowledged must be in the database.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

it('keeps every write it acknowledged when the process is killed with SIGKILL mid-burst', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-kill-'));
  dirs.push(dir);
  const path = join(dir, 'store.db');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'acking-writer.ts'), path, '32'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const acked: string[] = [];
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  // Kill once it has acknowledged enough that the burst is surely in full swing.
  const enough = 2_000;
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (line === 'ready') return;
      acked.push(line);
      if (acked.length === enough) {
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.once('exit', () => {
      if (acked.length < enough) reject(new Error(`the writer exited early: ${stderr}`));
    });
  });
  expect(await exited).toBe('SIGKILL');

  const store = openSqliteStore({ path });
  try {
    const missing: string[] = [];
    for (const id of acked) if ((await store.getMessage(id)) === undefined) missing.push(id);
    expect(missing).toEqual([]);
    expect(acked.length).toBeGreaterThanOrEqual(enough);
  } finally {
    await store.close();
  }
}, 60_000);
