/** Callback hosts resolved once per TTL across requests; failures kept briefly; a bounded set. */
import { describe, expect, it } from 'vitest';
import { HostCache } from '../../src/http/message-intake.js';

describe('HostCache', () => {
  it('resolves a host once per TTL, a failed lookup again after the short TTL, and keeps at most maxHosts', async () => {
    let now = 0;
    const lookups: string[] = [];
    const cache = new HostCache(
      async (host) => {
        lookups.push(host);
        if (host === 'nowhere.example') throw new Error('ENOTFOUND');
        return ['93.184.215.14'];
      },
      60_000,
      5_000,
      2,
      () => now,
    );
    expect(await cache.lookup('a.example')).toEqual(['93.184.215.14']);
    now = 59_999;
    await cache.lookup('a.example');
    expect(lookups).toEqual(['a.example']);
    now = 60_000;
    await cache.lookup('a.example');
    expect(lookups).toEqual(['a.example', 'a.example']);

    expect(await cache.lookup('nowhere.example')).toEqual([]);
    now += 4_999;
    await cache.lookup('nowhere.example');
    now += 1;
    await cache.lookup('nowhere.example');
    expect(lookups.filter((h) => h === 'nowhere.example')).toHaveLength(2);

    // Two hosts at most: a third pushes the oldest out.
    await cache.lookup('b.example');
    await cache.lookup('a.example');
    expect(lookups.filter((h) => h === 'a.example')).toHaveLength(3);
  });
});
