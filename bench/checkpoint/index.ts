// npm run bench -- checkpoint [--rounds 2] [--ms 4000] [--callers 50] [--dist]: where SQLite's WAL
// checkpoints run, measured on the store alone. The same write load (`--callers` concurrent
// createMessage with one 160-byte part, each caller awaiting its write then writing again, for
// `--ms` per case) on a SqliteStore with checkpoint 'inline' (SQLite's automatic checkpoint inside
// a COMMIT every 1000 WAL pages, on the event loop) and 'child' (the default: a child process
// checkpoints, src/store/checkpointer.ts). Prints per case: writes/s, the longest a transaction held
// the writer (= blocked the event loop), the worst and p99 event-loop delay
// (perf_hooks.monitorEventLoopDelay), how often the loop was held (a 1 ms interval firing more than
// 5 / 10 ms late), checkpoints (child) and the largest WAL seen. `--dist` runs the store from dist/
// (`npm run build` first), so the child is the compiled one, as in serve (from the sources it is
// run through tsx, whose start costs a second of CPU). Cases alternate in rounds so machine noise
// falls on both; 2 shared cores: compare ratios.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { CheckpointMode } from '../../src/store/checkpointer.js';
import * as fromSources from '../../src/store/sqlite-store.js';
import type { NewMessage } from '../../src/store/store.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    ms: { type: 'string', default: '4000' },
    callers: { type: 'string', default: '50' },
    dist: { type: 'boolean', default: false },
  },
});
const { openSqliteStore } = values.dist
  ? ((await import(new URL('../../dist/store/sqlite-store.js', import.meta.url).href)) as typeof fromSources)
  : fromSources;
const ROUNDS = Number(values.rounds);
const RUN_MS = Number(values.ms);
const CALLERS = Number(values.callers);
const MODES: CheckpointMode[] = ['inline', 'child'];

interface Result {
  writesPerS: number;
  longestGroupMs: number;
  maxDelayMs: number;
  p99DelayMs: number;
  late5: number;
  late10: number;
  checkpoints: number;
  childCheckpointMs: number;
  walMaxMiB: number;
  fallbacks: number;
}

let seq = 0;
function message(): NewMessage {
  const id = `m${seq++}`;
  return {
    id,
    clientRef: `ref-${id}`,
    route: 'default',
    from: 'ACME',
    to: '447700900123',
    encoding: 'gsm7',
    body: Buffer.from(`hello ${id}`),
  };
}

async function runCase(mode: CheckpointMode): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-bench-ckpt-'));
  const path = join(dir, 'bench.db');
  const warnings: string[] = [];
  const store = openSqliteStore({
    path,
    checkpoint: mode,
    logger: { debug: () => undefined, warn: (_o, msg) => warnings.push(msg) },
  });
  const payload = Buffer.alloc(160, 7);
  const delay = monitorEventLoopDelay({ resolution: 1 });
  // Late turns: a 1 ms interval that fires more than 5 (10) ms late was held by something on the loop.
  let late5 = 0;
  let late10 = 0;
  let last = performance.now();
  const sampler = setInterval(() => {
    const now = performance.now();
    if (now - last > 6) late5++;
    if (now - last > 11) late10++;
    last = now;
  }, 1);
  let walMax = 0;
  const walSampler = setInterval(() => {
    try {
      walMax = Math.max(walMax, statSync(`${path}-wal`).size);
    } catch {
      // not there yet
    }
  }, 50);
  delay.enable();
  const startedAt = performance.now();
  const deadline = startedAt + RUN_MS;
  let writes = 0;
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      while (performance.now() < deadline) {
        await store.createMessage(message(), [{ index: 0, payload }]);
        writes++;
      }
    }),
  );
  const tookS = (performance.now() - startedAt) / 1000;
  delay.disable();
  clearInterval(sampler);
  clearInterval(walSampler);
  const stats = store.stats();
  const checkpoints = store.checkpoints();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  for (const w of warnings) console.error(`  (${mode}) warning: ${w}`);
  return {
    writesPerS: writes / tookS,
    longestGroupMs: stats.longestGroupMs,
    maxDelayMs: delay.max / 1e6,
    p99DelayMs: delay.percentile(99) / 1e6,
    late5,
    late10,
    checkpoints: checkpoints?.checkpoints ?? 0,
    childCheckpointMs: checkpoints?.longestMs ?? 0,
    walMaxMiB: walMax / 2 ** 20,
    fallbacks: checkpoints?.fallbacks ?? 0,
  };
}

const results = new Map<CheckpointMode, Result[]>(MODES.map((m) => [m, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const mode of MODES) results.get(mode)!.push(await runCase(mode));
}

const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(
  `checkpoint bench: node ${process.version}, ${CALLERS} callers, ${RUN_MS} ms per case, ${ROUNDS} rounds (load ${load})\n`,
);
const columns = MODES.flatMap((m) => results.get(m)!.map((_, i) => `${m} #${i + 1}`));
const rows: [string, (r: Result) => string][] = [
  ['writes/s', (r) => r.writesPerS.toFixed(0)],
  ['longest transaction = event-loop block by the store (ms)', (r) => r.longestGroupMs.toFixed(1)],
  ['event-loop delay max / p99 (ms)', (r) => `${r.maxDelayMs.toFixed(1)} / ${r.p99DelayMs.toFixed(1)}`],
  ['loop held > 5 ms / > 10 ms (times)', (r) => `${r.late5} / ${r.late10}`],
  ['checkpoints in the child / longest (ms)', (r) => `${r.checkpoints} / ${r.childCheckpointMs.toFixed(1)}`],
  ['largest WAL file (MiB)', (r) => r.walMaxMiB.toFixed(1)],
  ['fallbacks to the writer', (r) => String(r.fallbacks)],
];
console.log(`| measure | ${columns.join(' | ')} |`);
console.log(`| --- | ${columns.map(() => '---:').join(' | ')} |`);
for (const [name, f] of rows) {
  console.log(`| ${name} | ${MODES.flatMap((m) => results.get(m)!.map(f)).join(' | ')} |`);
}
