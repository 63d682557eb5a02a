/**
 * Demo mode (`serve` with no config) keeps its messages in a throwaway SQLite file of its own in
 * the OS temp directory: the file is there while it runs and gone, with its -wal and -shm, after a
 * clean shutdown. The service runs with TMPDIR set to a directory of this test, so what it leaves
 * is seen there and nowhere else.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { killAllChildren, startCli } from '../helpers/cli-child.js';

const dirs: string[] = [];
afterEach(() => {
  killAllChildren();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The demo store's files in `dir` (tsx keeps a cache of its own there too). */
const demoFiles = (dir: string): string[] =>
  readdirSync(dir).filter((f) => f.startsWith('smpp-bridge-demo-'));

it('removes its temporary store file (and -wal, -shm) at a clean shutdown', {
  timeout: 120_000,
}, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'smpp-bridge-demo-tmp-'));
  dirs.push(tmp);
  const serve = startCli(['serve'], { PORT: '0', HOST: '127.0.0.1', SMPP_BRIDGE_CONFIG: '', TMPDIR: tmp });
  // Eventual: the start goes through tsx, slow on a loaded machine.
  await serve.line(/^smpp-bridge listening on /, 90_000);
  const stored = await serve.line(/^demo mode: messages are stored in /);
  const pid = serve.process.pid;
  expect(stored.msg).toContain(join(tmp, `smpp-bridge-demo-${pid}.db`));
  expect(demoFiles(tmp)).toContain(`smpp-bridge-demo-${pid}.db`);

  serve.process.kill('SIGTERM');
  expect(await serve.exited).toEqual({ code: 0, signal: null });
  expect(demoFiles(tmp)).toEqual([]);
});
