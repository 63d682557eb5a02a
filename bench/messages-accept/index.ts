// npm run bench -- messages-accept [--duration-s S] [--connections N] [--batch N] [--rate R]
//                                   [--synchronous full|normal]
//
// How fast POST /messages accepts, on its own: the app with the message path over SqliteStore
// (synchronous=FULL, or NORMAL) in a server process of its own (server.ts), an outbound port that only counts
// (nothing is sent: the end-to-end benchmark with the simulator comes with the outbound engine),
// and autocannon in this process, on loopback. Three runs of --duration-s seconds:
//   1. single POSTs from --connections connections (default 50): accepted/s, latency p50/p99;
//   2. POST /messages/batch with --batch messages each (default 100) from 10 connections: messages/s;
//   3. single POSTs at a fixed --rate per second (default 2000): latency p50/p99.
// After each run: the store's commits and units (units per commit shows the group commit at work),
// its longest group (how long one commit held the event loop) and the server's event-loop delay.
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const { values } = parseArgs({
  options: {
    'duration-s': { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    batch: { type: 'string', default: '100' },
    rate: { type: 'string', default: '2000' },
    synchronous: { type: 'string', default: 'full' },
  },
});
const durationS = Number(values['duration-s']);
const connections = Number(values.connections);
const batchSize = Number(values.batch);
const rate = Number(values.rate);

interface Stats {
  commits: number;
  units: number;
  maxGroupSize: number;
  longestGroupMs: number;
  busyMs: number;
  commitMs: number;
  notified: number;
  loopMaxMs: number;
  loopP99Ms: number;
}

const synchronous = values.synchronous === 'normal' ? 'normal' : 'full';
const child: ChildProcess = fork(fileURLToPath(new URL('./server.ts', import.meta.url)), [synchronous], {
  execArgv: ['--import', 'tsx'],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const [ready] = (await once(child, 'message')) as [{ port: number }];
const base = `http://127.0.0.1:${ready.port}`;

async function ask<T>(cmd: string, key: string): Promise<T> {
  const reply = once(child, 'message') as Promise<[Record<string, T>]>;
  child.send({ cmd });
  return (await reply)[0][key] as T;
}

const message = (i: number) => ({
  to: `+4477009${String(i % 100_000).padStart(5, '0')}`,
  from: 'ACME',
  text: 'Your code is 123456',
});
const single = JSON.stringify(message(1));
const batch = JSON.stringify({ messages: Array.from({ length: batchSize }, (_, i) => message(i)) });

async function run(name: string, options: autocannon.Options, perRequest: number): Promise<void> {
  await ask('reset', 'reset');
  const before = await ask<Stats>('stats', 'stats');
  const result = await autocannon({
    duration: durationS,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    ...options,
  });
  const after = await ask<Stats>('stats', 'stats');
  const ok = result.statusCodeStats['202']?.count ?? 0;
  const commits = after.commits - before.commits;
  const units = after.units - before.units;
  console.log(`\n${name}`);
  console.log(
    `  accepted: ${Math.round((ok * perRequest) / result.duration)} msg/s (${Math.round(ok / result.duration)} req/s; ` +
      `non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts})`,
  );
  console.log(
    `  latency (2xx, whole ms): p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms`,
  );
  console.log(
    `  store: ${commits} commits for ${units} transactions (${(units / Math.max(1, commits)).toFixed(1)} per commit), ` +
      `mean commit ${((after.commitMs - before.commitMs) / Math.max(1, commits)).toFixed(2)} ms, ` +
      `longest group (run so far) ${after.longestGroupMs.toFixed(2)} ms, largest group ${after.maxGroupSize}`,
  );
  console.log(
    `  server event loop: delay p99 ${after.loopP99Ms.toFixed(1)} ms, max ${after.loopMaxMs.toFixed(1)} ms`,
  );
}

try {
  console.log(
    `POST /messages accept benchmark: ${durationS} s per run, SqliteStore synchronous=${synchronous.toUpperCase()}, loopback`,
  );
  await run(
    `1. single POSTs, ${connections} connections`,
    { url: `${base}/messages`, connections, body: single },
    1,
  );
  await run(
    `2. batches of ${batchSize}, 10 connections`,
    { url: `${base}/messages/batch`, connections: 10, body: batch },
    batchSize,
  );
  await run(
    `3. single POSTs at ${rate}/s, ${connections} connections`,
    { url: `${base}/messages`, connections, body: single, overallRate: rate },
    1,
  );
} finally {
  child.send({ cmd: 'exit' });
  await once(child, 'exit');
}
