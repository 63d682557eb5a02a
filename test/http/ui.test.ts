/**
 * The dashboard's HTTP side (the page itself is tested in chromium, test/e2e/ui.test.ts): GET /
 * redirects to /ui/, the files are served from the package with their types and security
 * headers, open to everyone even with protectReads while the API stays guarded, and hidden from
 * the OpenAPI document.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BindRegistry } from '../../src/binds/registry.js';
import { type App, buildApp } from '../../src/http/app.js';
import { loadUiAssets } from '../../src/http/routes/ui.js';
import { config } from './harness.js';

const TOKEN = 'secret-ui-token';
let registry: BindRegistry;
let app: App;

beforeAll(async () => {
  registry = new BindRegistry();
  app = await buildApp({ registry, config: config({ auth: { tokens: [TOKEN], protectReads: true } }) });
});

afterAll(async () => {
  await app?.close();
  await registry?.stopAll(1_000);
});

describe('the dashboard routes', () => {
  it('redirects / and /ui to /ui/', async () => {
    const root = await app.inject({ url: '/' });
    expect(root.statusCode).toBe(302);
    expect(root.headers.location).toBe('/ui/');
    const ui = await app.inject({ url: '/ui' });
    expect(ui.statusCode).toBe(301);
    expect(ui.headers.location).toBe('/ui/');
  });

  it('serves the page with a CSP that allows no inline script, nosniff and no framing', async () => {
    const res = await app.inject({ url: '/ui/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('<script type="module" src="app.js"></script>');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    // No inline script at all in the page.
    expect(res.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });

  it('serves its modules, its styles and uPlot from the package, with types and ETags', async () => {
    for (const [url, type] of [
      ['/ui/app.js', 'text/javascript; charset=utf-8'],
      ['/ui/dashboard.js', 'text/javascript; charset=utf-8'],
      ['/ui/sse.js', 'text/javascript; charset=utf-8'],
      ['/ui/style.css', 'text/css; charset=utf-8'],
      ['/ui/vendor/uPlot.esm.js', 'text/javascript; charset=utf-8'],
      ['/ui/vendor/uPlot.min.css', 'text/css; charset=utf-8'],
    ] as const) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toBe(type);
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      const etag = String(res.headers.etag);
      const again = await app.inject({ url, headers: { 'if-none-match': etag } });
      expect(again.statusCode, url).toBe(304);
    }
    expect((await app.inject({ url: '/ui/vendor/uPlot.esm.js' })).body).toContain(
      'export { uPlot as default }',
    );
  });

  it('answers 404 NOT_FOUND for any other name, and never reads a path from the URL', async () => {
    for (const url of ['/ui/nope.js', '/ui/..%2Fpackage.json', '/ui/vendor/..%2F..%2Fpackage.json']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json(), url).toMatchObject({ code: 'NOT_FOUND' });
    }
    // A dot segment is no route of the dashboard: the API's guard answers it like any unknown path.
    const dots = await app.inject({ url: '/ui/%2e%2e/package.json' });
    expect([401, 404]).toContain(dots.statusCode);
    expect(dots.body).not.toContain('devDependencies');
  });

  it('is open with protectReads while the API it calls still needs the token', async () => {
    expect((await app.inject({ url: '/ui/app.js' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/binds' })).statusCode).toBe(401);
    const ok = await app.inject({ url: '/binds', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.statusCode).toBe(200);
  });

  it('is hidden from the OpenAPI document', async () => {
    const res = await app.inject({ url: '/openapi.json', headers: { authorization: `Bearer ${TOKEN}` } });
    const paths = Object.keys((res.json() as { paths: Record<string, unknown> }).paths);
    expect(paths.filter((p) => p === '/' || p.startsWith('/ui'))).toEqual([]);
    expect(paths).toContain('/events');
  });
});

describe('the dashboard in the package', () => {
  it('serves every file of ui/, and the npm package ships them with uPlot as a runtime dependency', () => {
    const served = [...loadUiAssets().own.keys()].sort();
    expect(readdirSync('ui').sort()).toEqual(served);
    const pack = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(pack.status, pack.stderr).toBe(0);
    const files = (JSON.parse(pack.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    for (const name of served) expect(files).toContain(`ui/${name}`);
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies.uplot).toBeDefined();
  });
});
