// The server process of the accept benchmark (index.ts): the real app with the message path over a
// SqliteStore (synchronous=FULL as shipped, or NORMAL when argv[2] is 'normal') in a temp dir, an
// outbound port that only counts, and one default route. Sends { port } over IPC; on 'stats' answers the store's group-commit figures
// and the event-loop delay; on 'exit' closes everything.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { BindRegistry } from '../../src/binds/registry.js';
import type { OutboundPort } from '../../src/bridge/ports.js';
import { buildRouteTable } from '../../src/bridge/routing.js';
import { buildApp } from '../../src/http/app.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-bench-accept-'));
const synchronous = process.argv[2] === 'normal' ? 'normal' : 'full';
const store = openSqliteStore({ path: join(dir, 'store.db'), synchronous });
let notified = 0;
const outbound: OutboundPort = {
  notifyQueued: () => {
    notified++;
  },
  queuedParts: () => 0,
};
const table = buildRouteTable(undefined, [{ id: 'main', bindType: 'transceiver' }]);
const app = await buildApp({
  registry: new BindRegistry(),
  config: {
    auth: { tokens: [], protectReads: false },
    readiness: { policy: 'all', minHealthy: 1 },
    http: { bodyLimitBytes: 65_536 },
    metrics: { enabled: false },
  },
  messagePath: { store, outbound, routes: () => table },
});
await app.listen({ host: '127.0.0.1', port: 0 });
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();

process.on('message', async (msg: { cmd: string }) => {
  if (msg.cmd === 'reset') {
    loop.reset();
    process.send?.({ reset: true });
  } else if (msg.cmd === 'stats') {
    process.send?.({
      stats: { ...store.stats(), notified, loopMaxMs: loop.max / 1e6, loopP99Ms: loop.percentile(99) / 1e6 },
    });
  } else if (msg.cmd === 'exit') {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  }
});
const address = app.server.address();
process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
