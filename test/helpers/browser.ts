/**
 * A real browser for the dashboard tests: Debian's chromium driven by playwright-core (which
 * cannot download a browser of its own here). Without chromium the browser tests are skipped
 * with a loud reason; CI (.ci/run) installs it, so there they always run.
 */
import { existsSync } from 'node:fs';
import type { Browser, ConsoleMessage, Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.SMPP_BRIDGE_CHROMIUM ?? '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM_PATH);
export const NO_CHROMIUM_REASON = `SKIPPED: no chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set SMPP_BRIDGE_CHROMIUM): the dashboard's browser tests did not run`;

if (!HAS_CHROMIUM) console.warn(`\n*** ${NO_CHROMIUM_REASON} ***\n`);

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  const runningAsRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // chromium refuses to run its sandbox as root; the page is our own, served from loopback.
    args: [...(runningAsRoot ? ['--no-sandbox'] : []), '--disable-gpu', '--disable-dev-shm-usage'],
    timeout: 60_000,
  });
}

/** Every console error, page error and failed request of a page, as text. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('requestfailed', (request) => {
    // The event stream is aborted when the page closes; that is not an error of the page.
    if (!request.url().includes('/events'))
      errors.push(`requestfailed: ${request.url()} ${request.failure()?.errorText}`);
  });
  return errors;
}
