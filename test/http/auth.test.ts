import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerToken, createTokenChecker } from '../../src/http/plugins/auth.js';
import { bindOptions, captureLogger, config, type Harness, startHarness, waitBound } from './harness.js';

const TOKENS = ['alpha-token-1', 'beta-token-22'];
let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  const bind = h.registry.add(bindOptions('main', h.port, { minProbeIntervalMs: 0 }));
  h.registry.startAll();
  await waitBound(bind);
});

afterAll(async () => {
  await h?.close();
});

const READS = ['/binds', '/binds/main', '/binds/main/health', '/metrics', '/openapi.json', '/docs/json'];

describe('createTokenChecker', () => {
  const accepts = createTokenChecker(TOKENS);

  it('accepts each configured token', () => {
    for (const t of TOKENS) expect(accepts(t)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['a prefix', 'alpha-token-'],
    ['an extension', 'alpha-token-11'],
    ['another case', 'ALPHA-TOKEN-1'],
    ['with a space', ' alpha-token-1'],
    ['much longer', 'a'.repeat(100_000)],
    ['non-ASCII', 'älpha-tøken-1'],
  ])('rejects %s token (never throws on a length mismatch)', (_name, token) => {
    expect(accepts(token)).toBe(false);
  });

  it('accepts nothing when no token is configured, and ignores empty configured tokens', () => {
    expect(createTokenChecker([])('')).toBe(false);
    expect(createTokenChecker(['', 'x'])('')).toBe(false);
    expect(createTokenChecker(['', 'x'])('x')).toBe(true);
  });
});

describe('bearerToken', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['Bearer   abc  ', 'abc'],
    ['Basic abc', null],
    ['Bearer', null],
    ['Bearer a b', null],
    ['abc', null],
  ])('%j -> %j', (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });

  it('no header -> null', () => {
    expect(bearerToken(undefined)).toBeNull();
  });
});

describe('with tokens configured', () => {
  it('guards POST routes: 401 with WWW-Authenticate without a token, through with one', async () => {
    const app = await h.app({ config: config({ auth: { tokens: TOKENS, protectReads: false } }) });
    const none = await app.inject({ method: 'POST', url: '/binds/main/enquire' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="smpp-bridge"');
    expect(none.json()).toEqual({
      code: 'UNAUTHORIZED',
      message: 'a bearer token is required (Authorization: Bearer <token>)',
    });

    const wrong = await app.inject({
      method: 'POST',
      url: '/binds/main/enquire',
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers['www-authenticate']).toBe('Bearer realm="smpp-bridge", error="invalid_token"');
    expect(wrong.json().code).toBe('UNAUTHORIZED');

    const basic = await app.inject({
      method: 'POST',
      url: '/binds/main/rebind',
      headers: { authorization: `Basic ${Buffer.from(`x:${TOKENS[0]}`).toString('base64')}` },
    });
    expect(basic.statusCode).toBe(401);

    for (const token of TOKENS) {
      const ok = await app.inject({
        method: 'POST',
        url: '/binds/main/enquire',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(ok.statusCode).toBe(200);
    }
  });

  it('checks the token before the body: an unauthenticated bad body gets 401, not 400', async () => {
    const app = await h.app({ config: config({ auth: { tokens: TOKENS, protectReads: false } }) });
    const res = await app.inject({
      method: 'POST',
      url: '/binds/main/enquire',
      headers: { 'content-type': 'application/json' },
      payload: '{"timeoutMs":',
    });
    expect(res.statusCode).toBe(401);
  });

  it('leaves GET routes open by default', async () => {
    const app = await h.app({ config: config({ auth: { tokens: TOKENS, protectReads: false } }) });
    for (const url of [...READS, '/livez', '/readyz']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBeLessThan(400);
    }
  });

  it('with protectReads guards every GET except /livez and /readyz', async () => {
    const app = await h.app({ config: config({ auth: { tokens: TOKENS, protectReads: true } }) });
    for (const url of [...READS, '/docs', '/events']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(401);
      expect(res.json().code).toBe('UNAUTHORIZED');
    }
    for (const url of READS) {
      const res = await app.inject({ url, headers: { authorization: `Bearer ${TOKENS[1]}` } });
      expect(res.statusCode, url).toBe(200);
    }
    expect((await app.inject({ url: '/livez' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);
  });

  it('answers 401 rather than 404 for unknown routes that would need a token', async () => {
    const guarded = await h.app({ config: config({ auth: { tokens: TOKENS, protectReads: true } }) });
    expect((await guarded.inject({ url: '/nope' })).statusCode).toBe(401);
    const authed = await guarded.inject({ url: '/nope', headers: { authorization: `Bearer ${TOKENS[0]}` } });
    expect(authed.statusCode).toBe(404);
    expect(authed.json().code).toBe('NOT_FOUND');

    const open = await h.app({ config: config({ auth: { tokens: TOKENS, protectReads: false } }) });
    expect((await open.inject({ url: '/nope' })).statusCode).toBe(404);
    expect((await open.inject({ method: 'POST', url: '/nope' })).statusCode).toBe(401);
  });
});

describe('with no tokens configured', () => {
  it('leaves POST routes open and warns once at start', async () => {
    const { logger, lines } = captureLogger('info');
    const app = await h.app({ logger, config: config({ auth: { tokens: [], protectReads: true } }) });
    const res = await app.inject({ method: 'POST', url: '/binds/main/enquire' });
    expect(res.statusCode).toBe(200);
    expect((await app.inject({ url: '/binds' })).statusCode).toBe(200);
    const warnings = lines.filter((l) => l.level === 40 && l.msg.includes('no API tokens configured'));
    expect(warnings).toHaveLength(1);
  });

  it('says nothing about tokens when some are configured', async () => {
    const { logger, lines } = captureLogger('info');
    await h.app({ logger, config: config({ auth: { tokens: TOKENS, protectReads: false } }) });
    expect(lines.some((l) => l.msg.includes('no API tokens'))).toBe(false);
  });
});
