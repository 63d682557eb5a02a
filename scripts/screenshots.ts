/**
 * Makes the README's pictures of the dashboard: docs/images/dashboard.png (the bind list),
 * docs/images/dashboard-detail.png (one bind's detail panel) and docs/images/dashboard-messages.png
 * (the messages region, after messages sent through POST /messages). It runs the real app and
 * message path (SQLite store in a temporary folder, outbound engine) over a real registry and the
 * SMSC simulator on loopback, with binds in every status (healthy, slow and so
 * degraded, blackholed and so unhealthy, refused, on standby, stopped), lets the keepalive fill
 * the sparklines, and photographs the page in Debian's chromium.
 *
 *   npm run screenshots
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { chromium } from 'playwright-core';
import { withBindDefaults } from '../src/binds/bind-options.js';
import { BindRegistry } from '../src/binds/registry.js';
import { startMessagePath } from '../src/cli/message-path.js';
import { demoConfig } from '../src/config/service-config.js';
import { buildApp } from '../src/http/app.js';
import { createSimulator } from '../src/simulator/simulator.js';

const CHROMIUM = process.env.SMPP_BRIDGE_CHROMIUM ?? '/usr/bin/chromium';
const OUT = 'docs/images';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const simulator = createSimulator({
  accounts: ['esme', 'slow', 'mute'].map((systemId) => ({ systemId, password: 'pw' })),
});
const { port } = await simulator.listen();
simulator.setFault({ kind: 'delay', ms: 60 }, { systemId: 'slow' });
const registry = new BindRegistry();
const bind = (id: string, systemId: string, extra: object = {}) =>
  withBindDefaults({
    id,
    host: '127.0.0.1',
    port,
    systemId,
    password: 'pw',
    enquireLinkIntervalMs: 400,
    enquireLinkTimeoutMs: 300,
    degradedLatencyMs: 50,
    reconnect: { initialDelayMs: 2_000, maxDelayMs: 10_000, stableAfterMs: 60_000 },
    ...extra,
  });
const regions = ['eu-west', 'eu-central', 'us-east', 'ap-south'];
const carriers = ['orange', 'vodafone', 'telekom', 'tmobile', 'airtel', 'movistar'];
for (const region of regions) {
  for (const carrier of carriers) registry.add(bind(`${carrier}-${region}`, 'esme'));
}
registry.add(bind('premium-slow', 'slow'));
registry.add(bind('legacy-mute', 'mute'));
registry.add(bind('partner-refused', 'esme', { port: await closedPort() }));
registry.add(bind('backup-eu', 'esme'), { standby: { owner: 'smpp-bridge-1' } });
registry.add(bind('maintenance', 'esme'));
registry.startAll();
await sleep(1_500);
await registry.get('maintenance')!.stop();
simulator.setFault({ kind: 'blackhole' }, { systemId: 'mute' });

// The message path over the same binds: the default route over every transmitter-capable bind.
const storeDir = mkdtempSync(join(tmpdir(), 'smpp-bridge-screenshots-'));
const serviceConfig = { ...demoConfig(), demo: false };
serviceConfig.store = { ...serviceConfig.store, path: join(storeDir, 'store.db') };
const logger = pino({ level: 'silent' });
const messages = await startMessagePath(serviceConfig, registry, logger as never, {
  binds: registry.list().map((b) => b.options),
});
const app = await buildApp({
  registry,
  config: {
    auth: { tokens: [], protectReads: false },
    readiness: { policy: 'all', minHealthy: 1 },
    http: { bodyLimitBytes: 65_536 },
    metrics: { enabled: false },
  },
  messagePath: messages.messagePath,
});
const base = await app.listen({ host: '127.0.0.1', port: 0 });
/** Sends `count` messages through the API, a few at a time. */
async function send(count: number, to: string): Promise<void> {
  for (let i = 0; i < count; i++) {
    await fetch(`${base}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ to, from: 'ACME', text: `order ${i} shipped` }),
    });
  }
}
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
});
try {
  const page = await browser.newPage({ viewport: { width: 1500, height: 900 }, deviceScaleFactor: 1 });
  await page.goto(`${base}/`);
  await page.locator('#live[data-live="live"]').waitFor();
  // Let the keepalive draw the sparklines and the blackholed bind go red.
  await sleep(8_000);
  mkdirSync(OUT, { recursive: true });
  await page.screenshot({ path: `${OUT}/dashboard.png` });
  await page.locator('.row.bind[data-id="premium-slow"] .id').click();
  await page.locator('#detail-health dd').first().waitFor();
  await sleep(1_500);
  await page.screenshot({ path: `${OUT}/dashboard-detail.png` });
  await page.locator('#detail-close').click();
  await send(40, '447700900123');
  await page.locator('#msg-statuses').waitFor({ state: 'visible' });
  await sleep(3_000);
  await page.locator('#messages').screenshot({ path: `${OUT}/dashboard-messages.png` });
  console.log(`wrote ${OUT}/dashboard.png, ${OUT}/dashboard-detail.png and ${OUT}/dashboard-messages.png`);
} finally {
  await browser.close();
  await app.close();
  await messages.stopSending(1_000);
  await registry.stopAll(2_000);
  await messages.close();
  await simulator.close();
  rmSync(storeDir, { recursive: true, force: true });
}
