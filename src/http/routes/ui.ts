/**
 * The dashboard: `GET /` redirects to `/ui/`, which serves one page and its static assets from
 * the package's `ui/` folder (beside `dist/` and `src/`, so the same path works from both), plus
 * uPlot from node_modules (a runtime dependency, resolved with the module resolver, so the file
 * served is exactly the installed, lock-pinned one: no copy to keep in step, no build step).
 *
 * Every file is read once, when the app is built, into memory with its ETag: nothing on the
 * request path touches the file system, and a name outside the fixed list is 404 (no path is
 * ever joined from the URL). The files are public (the page asks for the bearer token itself,
 * for the API calls it makes); every answer carries a CSP that allows scripts from this origin
 * only (no inline script), nosniff, no framing and no referrer.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyReply } from 'fastify';
import type { App } from '../context.js';
import { HttpApiError } from '../errors.js';
import { sendError } from '../plugins/error-handler.js';

/** The folder of the page's own files: <package>/ui, the same from src/http/routes and dist/http/routes. */
export const UI_DIR = new URL('../../../ui/', import.meta.url);

/** The routes of the dashboard, open to everyone even with auth.protectReads. */
export const UI_ROUTES: ReadonlySet<string> = new Set(['/', '/ui', '/ui/', '/ui/:file', '/ui/vendor/:file']);

export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': UI_CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

function asset(path: URL | string): Asset {
  const body = readFileSync(path);
  const name = typeof path === 'string' ? path : path.pathname;
  const type = TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  return { body, type, etag };
}

/** The page's files by name, and the vendored library files by name; read once. */
export function loadUiAssets(): { own: Map<string, Asset>; vendor: Map<string, Asset> } {
  const own = new Map<string, Asset>();
  for (const name of ['index.html', 'app.js', 'dashboard.js', 'sse.js', 'style.css', 'favicon.svg']) {
    own.set(name, asset(new URL(name, UI_DIR)));
  }
  const require = createRequire(import.meta.url);
  const vendor = new Map<string, Asset>([
    ['uPlot.esm.js', asset(require.resolve('uplot/dist/uPlot.esm.js'))],
    ['uPlot.min.css', asset(require.resolve('uplot/dist/uPlot.min.css'))],
  ]);
  return { own, vendor };
}

const HIDDEN = { hide: true } as const;

export function registerUiRoutes(app: App): void {
  const { own, vendor } = loadUiAssets();

  const send = (reply: FastifyReply, file: Asset | undefined, ifNoneMatch: string | undefined) => {
    reply.headers(SECURITY_HEADERS);
    if (file === undefined) {
      sendError(reply, new HttpApiError('NOT_FOUND', 'no such dashboard file'));
      return reply;
    }
    // Revalidated on every load (cheap: 304 with the ETag), so an upgraded service never serves a stale page.
    reply.header('cache-control', 'no-cache').header('etag', file.etag);
    if (ifNoneMatch === file.etag) return reply.code(304).send();
    return reply.type(file.type).send(file.body);
  };

  app.get('/', { schema: HIDDEN }, (_request, reply) =>
    reply.headers(SECURITY_HEADERS).redirect('/ui/', 302),
  );
  app.get('/ui', { schema: HIDDEN }, (_request, reply) =>
    reply.headers(SECURITY_HEADERS).redirect('/ui/', 301),
  );
  app.get('/ui/', { schema: HIDDEN }, (request, reply) =>
    send(reply, own.get('index.html'), request.headers['if-none-match']),
  );
  app.get<{ Params: { file: string } }>('/ui/:file', { schema: HIDDEN }, (request, reply) =>
    send(reply, own.get(request.params.file), request.headers['if-none-match']),
  );
  app.get<{ Params: { file: string } }>('/ui/vendor/:file', { schema: HIDDEN }, (request, reply) =>
    send(reply, vendor.get(request.params.file), request.headers['if-none-match']),
  );
}
