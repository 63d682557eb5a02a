/**
 * Webhook deliveries per second: the sender draining a durable outbox (SQLite, synchronous=full)
 * to a local HTTP receiver in a child process (node:http, answers 200), signed, through the real
 * claim → POST → record-outcome path. `--events` events are enqueued first (as MO events, the
 * fan-out's rows), then the sender is started and timed until the outbox is empty.
 *
 * In the same run, the baseline: the same number of bare POSTs (same body, same concurrency, one
 * undici Pool, no store, no signing) to the same receiver. On a shared machine the absolute figures
 * move a lot; the ratio sender / bare POSTs says what the outbox costs.
 *
 *   npm run bench -- webhooks [--events 20000] [--concurrency 64] [--synchronous full|normal]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { Pool } from 'undici';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { DEFAULT_WEBHOOKS } from '../../src/webhooks/config.js';
import { createWebhookDelivery } from '../../src/webhooks/delivery.js';
import { newWebhookSecret } from '../../src/webhooks/signing.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '64' },
    synchronous: { type: 'string', default: 'full' },
  },
});
const events = Number(values.events);
const concurrency = Number(values.concurrency);
const synchronous = values.synchronous === 'normal' ? 'normal' : 'full';

const RECEIVER = `
const http = require('node:http');
let n = 0;
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => { n++; res.writeHead(200, { 'content-length': '2' }).end('ok'); });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
process.on('message', () => process.send(n));
`;

async function startReceiver(): Promise<{ child: ChildProcess; port: number; count(): Promise<number> }> {
  const child = spawn(process.execPath, ['-e', RECEIVER], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) => {
    child.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
  });
  return {
    child,
    port,
    count: () =>
      new Promise((resolve) => {
        child.once('message', (n) => resolve(n as number));
        child.send('count');
      }),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-bench-webhooks-'));
const store = openSqliteStore({ path: join(dir, 'store.db'), synchronous });
const receiver = await startReceiver();
try {
  const payload = {
    type: 'message.received',
    timestamp: new Date().toISOString(),
    data: {
      id: 'mo',
      route: 'default',
      bind: 'b1',
      from: '447700900123',
      to: '12345',
      text: 'hello world',
      parts: 1,
    },
  };
  const enqueueStart = performance.now();
  const BATCH = 500;
  for (let i = 0; i < events; i += BATCH) {
    await store.transaction(async (tx) => {
      for (let j = i; j < Math.min(events, i + BATCH); j++) {
        await tx.enqueueWebhook({ messageId: null, endpoint: 'bench', type: payload.type, payload });
      }
    });
  }
  const enqueueMs = performance.now() - enqueueStart;

  const body = JSON.stringify(payload);
  const pool = new Pool(`http://127.0.0.1:${receiver.port}`, { connections: concurrency });
  const bareStart = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < events) {
        const response = await pool.request({
          path: '/bare',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        await response.body.dump();
      }
    }),
  );
  const bareMs = performance.now() - bareStart;
  await pool.close();
  const baseline = await receiver.count();

  const delivery = createWebhookDelivery({
    store,
    logger: pino({ level: 'error' }),
    config: {
      ...DEFAULT_WEBHOOKS,
      endpoints: [
        {
          id: 'bench',
          url: `http://127.0.0.1:${receiver.port}/hook`,
          secrets: [newWebhookSecret()],
          events: ['message.received'],
          routes: null,
          headers: {},
          concurrency,
        },
      ],
    },
  });
  const started = performance.now();
  await delivery.start();
  // The receiver's count first (cheap), then the outbox itself: every outcome committed.
  while ((await receiver.count()) < baseline + events) await new Promise((r) => setTimeout(r, 20));
  while ((await store.webhookBacklog()).length > 0) await new Promise((r) => setTimeout(r, 5));
  const elapsedMs = performance.now() - started;
  const received = (await receiver.count()) - baseline;
  const backlog = await store.webhookBacklog();
  await delivery.stop();
  const stats = store.stats();
  console.log(
    `webhook deliveries: ${events} events, endpoint concurrency ${concurrency}, synchronous=${synchronous}`,
  );
  console.log(
    `  enqueued in           ${enqueueMs.toFixed(0)} ms (${Math.round(events / (enqueueMs / 1000))}/s, batches of ${BATCH})`,
  );
  console.log(`  delivered in          ${elapsedMs.toFixed(0)} ms`);
  const rate = events / (elapsedMs / 1000);
  const bareRate = events / (bareMs / 1000);
  console.log(`  deliveries per second ${Math.round(rate)}  (goal >= 5000)`);
  console.log(`  bare POSTs per second ${Math.round(bareRate)}  (same receiver and concurrency, no outbox)`);
  console.log(`  ratio                 ${(rate / bareRate).toFixed(2)}`);
  console.log(`  receiver got          ${received} requests`);
  console.log(
    `  oldest pending at end ${backlog.length === 0 ? 'none (outbox empty)' : JSON.stringify(backlog)}`,
  );
  console.log(
    `  store: ${stats.commits} commits for ${stats.units} units (mean group ${(stats.units / stats.commits).toFixed(1)}), longest group ${stats.longestGroupMs.toFixed(1)} ms`,
  );
} finally {
  receiver.child.kill();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
