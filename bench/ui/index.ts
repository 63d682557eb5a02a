/**
 * The dashboard with many binds, in Debian's chromium: how long the page takes to list them all
 * (GET /binds pages + drawing), how long one scroll step takes to draw (scrollTop set → the next
 * frame painted), and how long a search and a status filter take to redraw. The binds are never
 * started (the list is what is measured, not SMPP).
 *
 *   npm run bench -- ui [--binds 10000] [--steps 200]
 */
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { withBindDefaults } from '../../src/binds/bind-options.js';
import { BindRegistry } from '../../src/binds/registry.js';
import { buildApp } from '../../src/http/app.js';

const { values } = parseArgs({
  options: { binds: { type: 'string', default: '10000' }, steps: { type: 'string', default: '200' } },
});
const BINDS = Number(values.binds);
const STEPS = Number(values.steps);
const CHROMIUM = process.env.SMPP_BRIDGE_CHROMIUM ?? '/usr/bin/chromium';

const registry = new BindRegistry();
for (let i = 0; i < BINDS; i++) {
  registry.add(
    withBindDefaults({
      id: `bind-${String(i).padStart(5, '0')}`,
      host: '127.0.0.1',
      port: 9,
      systemId: 'esme',
      password: 'pw',
    }),
  );
}
const app = await buildApp({
  registry,
  config: {
    auth: { tokens: [], protectReads: false },
    readiness: { policy: 'all', minHealthy: 1 },
    http: { bodyLimitBytes: 65_536 },
    metrics: { enabled: false },
  },
});
const base = await app.listen({ host: '127.0.0.1', port: 0 });
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
});

const quantile = (sorted: number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const total = `${BINDS.toLocaleString('en')} binds`;
  const t0 = performance.now();
  await page.goto(`${base}/ui/`);
  await page.waitForFunction(
    `document.getElementById('total')?.textContent === ${JSON.stringify(total)}`,
    null,
    {
      timeout: 120_000,
    },
  );
  const loadMs = performance.now() - t0;
  const rowsInDom = await page.locator('.row.bind').count();

  // Where the scrolling time goes, from chromium's own counters (seconds of script, layout, style).
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const metrics = async (): Promise<Record<string, number>> =>
    Object.fromEntries(
      (
        (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] }
      ).metrics.map((m) => [m.name, m.value]),
    );
  const before = await metrics();
  // Each step: jump scrollTop, then wait for two frames (the paint, then the frame after it).
  const frames = (await page.evaluate(`(async (steps) => {
    const viewport = document.getElementById('viewport');
    const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
    const out = [];
    for (let i = 0; i < steps; i++) {
      const t = performance.now();
      viewport.scrollTop = Math.random() * (viewport.scrollHeight - viewport.clientHeight);
      await frame();
      await frame();
      out.push(performance.now() - t);
    }
    return out;
  })(${STEPS})`)) as number[];
  frames.sort((a, b) => a - b);
  const after = await metrics();
  const perStepMs = (name: string): string =>
    ((((after[name] ?? 0) - (before[name] ?? 0)) * 1000) / STEPS).toFixed(1);

  const timed = async (action: () => Promise<void>, shown: string): Promise<number> => {
    const t = performance.now();
    await action();
    await page.waitForFunction(`document.getElementById('shown')?.textContent === ${JSON.stringify(shown)}`);
    return performance.now() - t;
  };
  console.log(`dashboard with ${BINDS} binds (chromium ${browser.version()}, headless)`);
  console.log(`  load, every page of GET /binds listed:  ${loadMs.toFixed(0)} ms`);
  console.log(`  rows in the DOM:                       ${rowsInDom}`);
  console.log(
    `  scroll step to next frame (${STEPS} random jumps): p50 ${quantile(frames, 0.5).toFixed(1)} ms, p95 ${quantile(frames, 0.95).toFixed(1)} ms, max ${frames.at(-1)!.toFixed(1)} ms (two frames: 33 ms at 60 Hz)`,
  );
  console.log(
    `    per step: script ${perStepMs('ScriptDuration')} ms, layout ${perStepMs('LayoutDuration')} ms, style ${perStepMs('RecalcStyleDuration')} ms, all tasks ${perStepMs('TaskDuration')} ms`,
  );
  const matching = Array.from({ length: BINDS }, (_, i) => String(i).padStart(5, '0')).filter((id) =>
    id.includes('7'),
  ).length;
  const searchMs = await timed(
    () => page.locator('#search').fill('7'),
    `${matching.toLocaleString('en')} of ${total}`,
  );
  const clearMs = await timed(
    () => page.locator('#search').fill(''),
    `${total.replace(' binds', '')} of ${total}`,
  );
  const filterMs = await timed(() => page.locator('[data-filter="healthy"]').click(), `0 of ${total}`);

  console.log(`  search '7' → ${matching} rows:          ${searchMs.toFixed(0)} ms`);
  console.log(`  clear the search → all rows:           ${clearMs.toFixed(0)} ms`);
  console.log(`  status filter 'healthy' → 0 rows:      ${filterMs.toFixed(0)} ms`);
} finally {
  await browser.close();
  await app.close();
  await registry.stopAll(2_000);
}
