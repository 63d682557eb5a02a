/**
 * callbackUrl policy: http(s) only, no credentials, and no loopback, private, link-local or reserved
 * targets (IPv4, IPv6, IPv4 inside IPv6) unless the config allows private networks.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addressAllowed, checkCallbackUrl, classifyAddress } from '../../src/webhooks/url-policy.js';

describe('classifyAddress', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['169.254.169.254', 'link_local'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['fe80::1%eth0', 'link_local'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['2606:4700:4700::1111', 'public'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:8.8.8.8', 'public'],
    ['64:ff9b::169.254.169.254', 'link_local'],
    ['::127.0.0.1', 'loopback'],
    ['999.1.1.1', 'invalid'],
    ['01.2.3.4', 'invalid'],
    ['1:2:3', 'invalid'],
    ['example.com', 'invalid'],
  ])('%s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });

  it('property: an IPv4 address and its IPv4-mapped IPv6 form are judged alike', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        expect(classifyAddress(`::ffff:${ip}`)).toBe(classifyAddress(ip));
        const [a, b, c, d] = ip.split('.').map(Number) as [number, number, number, number];
        const hex = `::ffff:${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
        expect(classifyAddress(hex)).toBe(classifyAddress(ip));
      }),
    );
  });

  it('property: every IPv6 address fast-check can write is classified, never invalid', () => {
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        expect(classifyAddress(ip)).not.toBe('invalid');
      }),
    );
  });
});

describe('checkCallbackUrl', () => {
  it('allows an https URL whose host resolves to public addresses only', () => {
    const v = checkCallbackUrl('https://hooks.example.com/sms', ['93.184.216.34', '2606:2800:220:1::1']);
    expect(v).toMatchObject({ ok: true, addresses: ['93.184.216.34', '2606:2800:220:1::1'] });
  });

  it('refuses other schemes, credentials, and junk', () => {
    expect(checkCallbackUrl('ftp://example.com/', ['93.184.216.34'])).toMatchObject({
      ok: false,
      code: 'SCHEME_NOT_ALLOWED',
    });
    expect(checkCallbackUrl('file:///etc/passwd', [])).toMatchObject({
      ok: false,
      code: 'SCHEME_NOT_ALLOWED',
    });
    expect(checkCallbackUrl('https://u:p@example.com/', ['93.184.216.34'])).toMatchObject({
      ok: false,
      code: 'CREDENTIALS_IN_URL',
    });
    expect(checkCallbackUrl('not a url', [])).toMatchObject({ ok: false, code: 'INVALID_URL' });
    expect(checkCallbackUrl('https://nowhere.example/', [])).toMatchObject({
      ok: false,
      code: 'NOT_RESOLVED',
    });
  });

  it('refuses a name that resolves to any private address (one bad answer is enough)', () => {
    expect(checkCallbackUrl('https://mixed.example/', ['93.184.216.34', '10.0.0.5'])).toMatchObject({
      ok: false,
      code: 'ADDRESS_NOT_ALLOWED',
    });
  });

  it('judges IP literal hosts themselves, in every spelling the URL parser accepts', () => {
    for (const url of [
      'http://127.0.0.1:8080/',
      'http://2130706433/',
      'http://0x7f.1/',
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://169.254.169.254/latest/meta-data/',
      'http://0.0.0.0/',
      'http://[::]/',
      'http://[fd00::1]/',
    ]) {
      expect(checkCallbackUrl(url, ['93.184.216.34'])).toMatchObject({
        ok: false,
        code: 'ADDRESS_NOT_ALLOWED',
      });
    }
    expect(checkCallbackUrl('http://8.8.8.8/', [])).toMatchObject({ ok: true, addresses: ['8.8.8.8'] });
  });

  it('allowPrivate lets loopback, private and link-local through, never 0.0.0.0 or multicast', () => {
    const policy = { allowPrivate: true };
    expect(checkCallbackUrl('http://127.0.0.1:9000/hook', [], policy).ok).toBe(true);
    expect(checkCallbackUrl('http://[fd00::1]/', [], policy).ok).toBe(true);
    expect(checkCallbackUrl('http://svc.internal/', ['10.0.0.7'], policy).ok).toBe(true);
    expect(addressAllowed('0.0.0.0', policy)).toBe(false);
    expect(addressAllowed('224.0.0.1', policy)).toBe(false);
  });

  it('allowedHosts trusts a named host whatever it resolves to; not an IP literal', () => {
    const policy = { allowPrivate: false, allowedHosts: ['receiver.internal'] };
    expect(checkCallbackUrl('https://Receiver.Internal/x', ['10.0.0.9'], policy).ok).toBe(true);
    expect(checkCallbackUrl('https://other.internal/x', ['10.0.0.9'], policy).ok).toBe(false);
  });
});
