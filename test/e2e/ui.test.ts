/**
 * The dashboard in a real browser (chromium via playwright-core) against a real app, registry
 * and SMSC simulator on loopback: the page loads without a console error, a blackholed bind turns
 * red without a reload, the probe button shows the RTT (asking for the token on 401), and a list
 * of 10,000 binds scrolls. Waits are generous and only eventual: two suites may share 2 cores.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BindRegistry } from '../../src/binds/registry.js';
import { type RunningService, startService } from '../../src/cli/serve.js';
import { demoConfig } from '../../src/config/service-config.js';
import { type App, buildApp } from '../../src/http/app.js';
import { collectErrors, HAS_CHROMIUM, launchChromium, NO_CHROMIUM_REASON } from '../helpers/browser.js';
import {
  bindOptions,
  config,
  type Harness,
  MUTE_SYSTEM_ID,
  startHarness,
  waitBound,
} from '../http/harness.js';

const TOKEN = 'ui-test-token';
/** Keepalive of the blackholed bind: detection bound = 200 + 2 × 200 = 600 ms. */
const KEEPALIVE = { enquireLinkIntervalMs: 200, enquireLinkTimeoutMs: 200, maxMissedProbes: 2 };
/** An eventual wait, far above the detection bound (600 ms) so a loaded machine still passes. */
const EVENTUALLY_MS = 20_000;

async function listen(app: App): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return `http://127.0.0.1:${address.port}`;
}

describe.skipIf(!HAS_CHROMIUM)(
  `the dashboard in chromium${HAS_CHROMIUM ? '' : ` (${NO_CHROMIUM_REASON})`}`,
  () => {
    let browser: Browser;
    let h: Harness;
    let base: string;

    beforeAll(async () => {
      browser = await launchChromium();
      h = await startHarness();
      h.registry.add(bindOptions('alpha', h.port, { minProbeIntervalMs: 0 }));
      h.registry.add(bindOptions('mute', h.port, { systemId: MUTE_SYSTEM_ID, ...KEEPALIVE }));
      h.registry.startAll();
      for (const id of ['alpha', 'mute']) await waitBound(h.registry.get(id)!);
      base = await listen(
        await h.app({ config: config({ auth: { tokens: [TOKEN], protectReads: false } }) }),
      );
    }, 90_000);

    afterAll(async () => {
      await browser?.close();
      await h?.close();
    });

    async function openPage(): Promise<{ page: Page; errors: string[]; loads: () => number }> {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      const errors = collectErrors(page);
      let loads = 0;
      page.on('load', () => loads++);
      await page.goto(`${base}/`, { timeout: 30_000 });
      return { page, errors, loads: () => loads };
    }

    it('loads from / with every bind and no console error, and goes live', async () => {
      const { page, errors } = await openPage();
      expect(new URL(page.url()).pathname).toBe('/ui/');
      await page.locator('.row.bind[data-id="alpha"]').waitFor({ timeout: EVENTUALLY_MS });
      await page.locator('.row.bind[data-id="mute"]').waitFor({ timeout: EVENTUALLY_MS });
      await page.locator('#live[data-live="live"]').waitFor({ timeout: EVENTUALLY_MS });
      await expect
        .poll(() => page.locator('.row.bind[data-id="alpha"]').getAttribute('data-status'))
        .toBe('healthy');
      // This app runs no message path: the messages region says so, with no numbers in it.
      await page
        .locator('#msg-note', { hasText: 'The message path does not run in this process' })
        .waitFor({ timeout: EVENTUALLY_MS });
      // biome-ignore lint/performance/useDomNodeTextContent: the visible text only (the hidden cells hold zeros).
      expect(await page.locator('#messages').innerText()).not.toMatch(/\d/);
      expect(await page.locator('#msg-statuses').isHidden()).toBe(true);
      expect(errors).toEqual([]);
      await page.context().close();
    });

    it('turns a blackholed bind red without a reload', async () => {
      const { page, errors, loads } = await openPage();
      const row = page.locator('.row.bind[data-id="mute"]');
      await row.waitFor({ timeout: EVENTUALLY_MS });
      await page.locator('#live[data-live="live"]').waitFor({ timeout: EVENTUALLY_MS });
      expect(await row.getAttribute('data-status')).toBe('healthy');
      const faultId = h.simulator.setFault({ kind: 'blackhole' }, { systemId: MUTE_SYSTEM_ID });
      try {
        await page
          .locator('.row.bind[data-id="mute"][data-status="unhealthy"]')
          .waitFor({ timeout: EVENTUALLY_MS });
        const color = await page.evaluate(
          `getComputedStyle(document.querySelector('.row.bind[data-id="mute"] .status')).color`,
        );
        expect(color).toBe('rgb(220, 38, 38)');
        expect(loads()).toBe(1);
        // The healthy bind stayed green.
        expect(await page.locator('.row.bind[data-id="alpha"]').getAttribute('data-status')).toBe('healthy');
        expect(errors).toEqual([]);
      } finally {
        h.simulator.clearFault(faultId);
        await page.context().close();
      }
    });

    it('asks for the token when the probe answers 401, then shows the RTT', async () => {
      const { page, errors } = await openPage();
      const row = page.locator('.row.bind[data-id="alpha"]');
      await row.waitFor({ timeout: EVENTUALLY_MS });
      await row.locator('button.probe').click();
      const dialog = page.locator('#token-dialog');
      await dialog.waitFor({ state: 'visible', timeout: EVENTUALLY_MS });
      await page.locator('#token-input').fill(TOKEN);
      await page.locator('#token-ok').click();
      await expect
        .poll(() => row.locator('.result').textContent(), { timeout: EVENTUALLY_MS })
        .toMatch(/^RTT \d+(\.\d+)? m?s$/);
      expect(await page.evaluate(`sessionStorage.getItem('smpp-bridge.token')`)).toBe(TOKEN);
      // A second probe reuses the kept token: no dialog.
      await row.locator('button.probe').click();
      await expect
        .poll(() => row.locator('.result').textContent(), { timeout: EVENTUALLY_MS })
        .toMatch(/^RTT /);
      expect(await dialog.isVisible()).toBe(false);
      // 401s are answers, not page errors; only fetch's own console line for them may appear.
      expect(errors.filter((e) => !e.includes('401'))).toEqual([]);
      await page.context().close();
    });

    it('asks for the token before it lists anything when reads are protected, and goes live with it', async () => {
      const guarded = await listen(
        await h.app({ config: config({ auth: { tokens: [TOKEN], protectReads: true } }) }),
      );
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      const errors = collectErrors(page);
      await page.goto(`${guarded}/`, { timeout: 30_000 });
      await page.locator('#token-dialog').waitFor({ state: 'visible', timeout: EVENTUALLY_MS });
      expect(await page.locator('.row.bind').count()).toBe(0);
      await page.locator('#token-input').fill(TOKEN);
      await page.locator('#token-ok').click();
      await page.locator('.row.bind[data-id="alpha"]').waitFor({ timeout: EVENTUALLY_MS });
      await page.locator('#live[data-live="live"]').waitFor({ timeout: EVENTUALLY_MS });
      expect(errors.filter((e) => !e.includes('401'))).toEqual([]);
      await context.close();
    });

    it('reconnects the event stream with backoff after it fails, and keeps updating', async () => {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      let attempts = 0;
      // The first two streams fail at the network level; the third goes through.
      await page.route('**/events?binds=true', (route) => {
        attempts++;
        return attempts <= 2 ? route.abort('connectionreset') : route.continue();
      });
      await page.goto(`${base}/ui/`, { timeout: 30_000 });
      await page.locator('#live[data-live="live"]').waitFor({ timeout: EVENTUALLY_MS });
      expect(attempts).toBeGreaterThanOrEqual(3);
      // Live again: a probe made outside the page shows up in its row.
      const row = page.locator('.row.bind[data-id="alpha"]');
      await row.waitFor({ timeout: EVENTUALLY_MS });
      const before = Number(await row.locator('.probes').textContent());
      await h.registry.get('alpha')!.probe({ trigger: 'external' });
      await expect
        .poll(async () => Number(await row.locator('.probes').textContent()), { timeout: EVENTUALLY_MS })
        .toBeGreaterThan(Number.isNaN(before) ? 0 : before);
      await context.close();
    });

    it('parses event streams split anywhere, and backs off from 0.5 s up to 15 s (the page modules)', async () => {
      const { page } = await openPage();
      // A string, so the test runner's module transform leaves the page's import() alone.
      const result = (await page.evaluate(`(async () => {
      const sse = await import('/ui/sse.js');
      const text = 'event: snapshot\\ndata: {"a":1}\\n\\n: heartbeat\\n\\nevent: bind\\ndata: {"b":2}\\n\\nevent: tr';
      const whole = sse.parseEvents(text);
      // The same text fed in two pieces, split at every offset, gives the same events.
      const splits = [];
      for (let i = 1; i < text.length; i++) {
        const first = sse.parseEvents(text.slice(0, i));
        const second = sse.parseEvents(first.rest + text.slice(i));
        splits.push(JSON.stringify([...first.events, ...second.events]));
      }
      const delays = [0, 1, 2, 5, 10, 20].map((n) => [sse.reconnectDelayMs(n, () => 0), sse.reconnectDelayMs(n, () => 0.999999)]);
      return { whole, splits: [...new Set(splits)], delays };
    })()`)) as {
        whole: { events: { name: string; data: string }[]; rest: string };
        splits: string[];
        delays: number[][];
      };
      expect(result.whole.events).toEqual([
        { name: 'snapshot', data: '{"a":1}' },
        { name: 'bind', data: '{"b":2}' },
      ]);
      expect(result.whole.rest).toBe('event: tr');
      expect(result.splits).toEqual([JSON.stringify(result.whole.events)]);
      expect(result.delays).toEqual([
        [250, 500],
        [500, 1000],
        [1000, 2000],
        [7500, 15000],
        [7500, 15000],
        [7500, 15000],
      ]);
      await page.context().close();
    });

    it('opens the detail panel with the health model, and says "no trace" when there is none', async () => {
      const { page, errors } = await openPage();
      const row = page.locator('.row.bind[data-id="alpha"]');
      await row.waitFor({ timeout: EVENTUALLY_MS });
      await row.locator('.id').click();
      await expect
        .poll(() => page.locator('#detail-health').textContent(), { timeout: EVENTUALLY_MS })
        .toContain('bound');
      expect(await page.locator('#detail-config').textContent()).toContain('127.0.0.1');
      expect(await page.locator('#detail-config').textContent()).not.toContain('Zq8!sec9');
      await expect
        .poll(() => page.locator('#detail-trace').textContent(), { timeout: EVENTUALLY_MS })
        .toMatch(/no trace|command|\[/);
      expect(errors.filter((e) => !e.includes('404'))).toEqual([]);
      await page.context().close();
    });
  },
);

describe.skipIf(!HAS_CHROMIUM)(
  `the dashboard with 10,000 binds${HAS_CHROMIUM ? '' : ` (${NO_CHROMIUM_REASON})`}`,
  () => {
    let browser: Browser;
    let registry: BindRegistry;
    let app: App;
    let base: string;

    beforeAll(async () => {
      browser = await launchChromium();
      // Binds that are never started: the list is real, the connections are not needed.
      registry = new BindRegistry();
      for (let i = 0; i < 10_000; i++) {
        registry.add(bindOptions(`bind-${String(i).padStart(5, '0')}`, 9));
      }
      app = await buildApp({ registry, config: config() });
      base = await listen(app);
    }, 90_000);

    afterAll(async () => {
      await browser?.close();
      await app?.close();
      await registry?.stopAll(2_000);
    });

    it('loads them all, keeps only the rows in view in the DOM, and scrolls to the last', async () => {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      const errors = collectErrors(page);
      await page.goto(`${base}/ui/`, { timeout: 30_000 });
      await expect
        .poll(() => page.locator('#total').textContent(), { timeout: EVENTUALLY_MS })
        .toBe('10,000 binds');
      const rowsInDom = await page.locator('.row.bind').count();
      expect(rowsInDom).toBeGreaterThan(5);
      expect(rowsInDom).toBeLessThan(100);

      // Scroll through the whole list in steps, then to the end: the last bind is drawn.
      const viewport = page.locator('#viewport');
      const scrollHeight = await viewport.evaluate((el) => el.scrollHeight);
      expect(scrollHeight).toBeGreaterThan(10_000 * 30);
      for (let i = 1; i <= 10; i++) {
        await viewport.evaluate(
          (el, top) => {
            el.scrollTop = top;
          },
          (scrollHeight * i) / 10,
        );
        await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => resolve(null)))');
      }
      await page.locator('.row.bind[data-id="bind-09999"]').waitFor({ timeout: EVENTUALLY_MS });
      await page
        .locator('.row.bind[data-id="bind-00000"]')
        .waitFor({ state: 'detached', timeout: EVENTUALLY_MS });
      expect(await page.locator('.row.bind').count()).toBeLessThan(100);

      // Search narrows the list to the matching binds.
      await page.locator('#search').fill('bind-0123');
      await expect
        .poll(() => page.locator('#shown').textContent(), { timeout: EVENTUALLY_MS })
        .toBe('10 of 10,000 binds');
      await page.locator('.row.bind[data-id="bind-01234"]').waitFor({ timeout: EVENTUALLY_MS });
      // The status filter: none is healthy; all are unhealthy (NOT_BOUND: not started).
      await page.locator('#search').fill('');
      await page.locator('[data-filter="healthy"]').click();
      await expect
        .poll(() => page.locator('#shown').textContent(), { timeout: EVENTUALLY_MS })
        .toBe('0 of 10,000 binds');
      await page.locator('[data-filter="unhealthy"]').click();
      await expect
        .poll(() => page.locator('#shown').textContent(), { timeout: EVENTUALLY_MS })
        .toBe('10,000 of 10,000 binds');
      expect(errors).toEqual([]);
      await context.close();
    }, 120_000);
  },
);

describe.skipIf(!HAS_CHROMIUM)(
  `the dashboard's messages region in chromium${HAS_CHROMIUM ? '' : ` (${NO_CHROMIUM_REASON})`}`,
  () => {
    let browser: Browser;
    let service: RunningService;
    let dir: string;

    beforeAll(async () => {
      browser = await launchChromium();
      dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-ui-messages-'));
      const config = demoConfig();
      config.http = { ...config.http, host: '127.0.0.1', port: 0 };
      config.store = { ...config.store, path: join(dir, 'store.db') };
      service = await startService(config, pino({ level: 'silent' }));
    }, 90_000);

    afterAll(async () => {
      await browser?.close();
      await service?.shutdown();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const cell = (page: Page, status: string, part: 'rate' | 'total') =>
      page.locator(`.msg-status[data-status="${status}"] [data-${part}]`).textContent();

    it('shows a message sent with POST /messages: queued while its bind is down, then submitted', async () => {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      const errors = collectErrors(page);
      await page.goto(`${service.url}/ui/`, { timeout: 30_000 });
      await page.locator('#live[data-live="live"]').waitFor({ timeout: EVENTUALLY_MS });
      await page.locator('#msg-statuses').waitFor({ state: 'visible', timeout: EVENTUALLY_MS });
      await expect.poll(() => page.locator('#msg-queued').getAttribute('data-value')).toBe('0');
      expect(await cell(page, 'submitted', 'total')).toBe('0 total');
      expect(await cell(page, 'submitted', 'rate')).toBe('0');

      // With the only bind stopped, the message waits in the queue: the depth shows it.
      await service.registry.stop('demo');
      const sent = await fetch(`${service.url}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ to: '447700900123', from: 'ACME', text: 'dashboard' }),
      });
      expect(sent.status).toBe(202);
      await expect
        .poll(() => page.locator('#msg-queued').getAttribute('data-value'), { timeout: EVENTUALLY_MS })
        .toBe('1');

      // The bind comes back: the message is submitted, live, and the queue drains.
      service.registry.start('demo');
      await expect.poll(() => cell(page, 'submitted', 'rate'), { timeout: EVENTUALLY_MS }).toBe('1');
      await expect.poll(() => cell(page, 'submitted', 'total'), { timeout: EVENTUALLY_MS }).toBe('1 total');
      await expect
        .poll(() => page.locator('#msg-queued').getAttribute('data-value'), { timeout: EVENTUALLY_MS })
        .toBe('0');
      expect(await cell(page, 'rejected', 'total')).toBe('0 total');
      expect(errors).toEqual([]);
      await context.close();
    }, 90_000);
  },
);
