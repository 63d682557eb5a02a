// GET /binds at more than a page of binds: id order, cursor pages that survive binds being added,
// status filters, and query parameters refused with the parameter named. 250 binds are never
// started (unhealthy, no sockets); one is bound to the simulator, one stopped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app.js';
import { bindOptions, type Harness, startHarness, waitBound } from './harness.js';

let h: Harness;
let app: App;
const IDLE = Array.from({ length: 250 }, (_, i) => `b${String(i).padStart(3, '0')}`);

beforeAll(async () => {
  h = await startHarness();
  // Added out of order: the listing sorts.
  const healthy = h.registry.add(bindOptions('zz-healthy', h.port));
  for (const id of [...IDLE].reverse()) h.registry.add(bindOptions(id, h.port));
  const stopped = h.registry.add(bindOptions('aa-stopped', h.port));
  healthy.start();
  await waitBound(healthy);
  await stopped.stop();
  app = await h.app();
});

afterAll(async () => {
  await h?.close();
});

interface Page {
  binds: { id: string; status: string }[];
  nextCursor: string | null;
}

async function page(query: string): Promise<Page> {
  const res = await app.inject({ url: `/binds${query}` });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Page;
}

/** Every page of a listing, following nextCursor. */
async function all(query: string): Promise<Page[]> {
  const pages: Page[] = [];
  let cursor: string | null = null;
  do {
    const sep = query === '' ? '?' : '&';
    const p = await page(cursor === null ? query : `${query}${sep}cursor=${encodeURIComponent(cursor)}`);
    pages.push(p);
    cursor = p.nextCursor;
  } while (cursor !== null && pages.length < 100);
  return pages;
}

const ALL_SORTED = ['aa-stopped', ...IDLE, 'zz-healthy'];

describe('GET /binds, paged', () => {
  it('answers 100 binds in id order by default, with a cursor to the next page', async () => {
    const first = await page('');
    expect(first.binds.map((b) => b.id)).toEqual(ALL_SORTED.slice(0, 100));
    expect(first.nextCursor).toEqual(expect.any(String));
  });

  it('walks every bind exactly once by following nextCursor, null on the last page', async () => {
    const pages = await all('?limit=100');
    expect(pages.map((p) => p.binds.length)).toEqual([100, 100, 52]);
    expect(pages.flatMap((p) => p.binds.map((b) => b.id))).toEqual(ALL_SORTED);
    expect(pages.at(-1)!.nextCursor).toBeNull();
  });

  it('answers everything on one page when the limit allows', async () => {
    const one = await page('?limit=1000');
    expect(one.binds.length).toBe(252);
    expect(one.nextCursor).toBeNull();
  });

  it('keeps its place when binds are added between pages', async () => {
    const first = await page('?limit=10');
    h.registry.add(bindOptions('a-added-before', h.port));
    h.registry.add(bindOptions('b200x-added-after', h.port));
    const second = await page(`?limit=10&cursor=${first.nextCursor}`);
    expect(second.binds[0]!.id).toBe(ALL_SORTED[10]);
    expect(second.binds.map((b) => b.id)).not.toContain('a-added-before');
    const rest = await all(`?limit=1000&cursor=${second.nextCursor}`);
    expect(rest.flatMap((p) => p.binds.map((b) => b.id))).toContain('b200x-added-after');
  });
});

describe('GET /binds?status=', () => {
  it('keeps only the binds with that status', async () => {
    expect((await page('?status=healthy')).binds.map((b) => b.id)).toEqual(['zz-healthy']);
    expect((await page('?status=stopped')).binds.map((b) => b.id)).toEqual(['aa-stopped']);
  });

  it('takes several statuses, comma-separated or repeated', async () => {
    const expected = ['aa-stopped', 'zz-healthy'];
    expect((await page('?status=healthy,stopped')).binds.map((b) => b.id)).toEqual(expected);
    expect((await page('?status=stopped&status=healthy')).binds.map((b) => b.id)).toEqual(expected);
    expect((await page('?status=degraded')).binds).toEqual([]);
  });

  it('pages a filtered listing, with no cursor once no further bind matches', async () => {
    const pages = await all('?status=unhealthy,healthy&limit=120');
    const ids = pages.flatMap((p) => p.binds.map((b) => b.id));
    expect(ids[0]).toBe('a-added-before');
    expect(ids.at(-1)).toBe('zz-healthy');
    expect(ids).not.toContain('aa-stopped');
    expect(new Set(ids).size).toBe(ids.length);
    // 250 idle + 2 added + zz-healthy = 253, in pages of 120.
    expect(pages.map((p) => p.binds.length)).toEqual([120, 120, 13]);
    // A full last page of matches says so: the binds after it (none match) get no cursor.
    const stoppedOnly = await page('?status=stopped&limit=1');
    expect(stoppedOnly.nextCursor).toBeNull();
  });
});

describe('GET /binds, bad queries', () => {
  async function refused(query: string, field: string): Promise<void> {
    const res = await app.inject({ url: `/binds${query}` });
    expect(res.statusCode, query).toBe(400);
    const body = res.json() as { code: string; message: string; details: { errors: { field: string }[] } };
    expect(body.code, query).toBe('VALIDATION_FAILED');
    // An array parameter may name its item: querystring/status/0.
    expect(
      body.details.errors.some((e) => e.field === field || e.field.startsWith(`${field}/`)),
      query,
    ).toBe(true);
    expect(body.message, query).toContain(field);
  }

  it('takes limit as a finite decimal integer from 1 to 1000 only', async () => {
    for (const bad of ['0', '1001', '-5', '2.5', 'abc', '0x10', '1e3', '', '%205', 'Infinity', 'NaN']) {
      await refused(`?limit=${bad}`, 'querystring/limit');
    }
    expect((await page('?limit=5.0')).binds.length).toBe(5);
    expect((await page('?limit=007')).binds.length).toBe(7);
  });

  it('refuses an unknown status, a cursor not of this listing and unknown parameters', async () => {
    await refused('?status=sick', 'querystring/status');
    await refused('?status=healthy,', 'querystring/status');
    await refused('?cursor=not-a-cursor', 'querystring/cursor');
    await refused(`?cursor=${Buffer.from('hello').toString('base64url')}`, 'querystring/cursor');
    await refused('?page=2', 'querystring/page');
  });
});
