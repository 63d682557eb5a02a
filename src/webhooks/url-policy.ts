/**
 * Which callback URLs the bridge may call: pure, from (URL, the addresses its host resolved to, config)
 * to allowed or refused with a reason. A callbackUrl comes from an API caller, so without this rule
 * the bridge would POST wherever it is told: cloud metadata (169.254.169.254), the admin port on
 * localhost, the rest of the private network (server-side request forgery).
 *
 *   scheme        http or https only; no user:password in the URL (it would end up in logs)
 *   loopback      127.0.0.0/8, ::1                                   refused unless allowPrivate
 *   private       10/8, 172.16/12, 192.168/16, 100.64/10 (CGNAT),     refused unless allowPrivate
 *                 fc00::/7 (unique local), fec0::/10 (old site-local)
 *   link-local    169.254/16, fe80::/10                               refused unless allowPrivate
 *   never         0.0.0.0/8 and :: (reach localhost on Linux), multicast, broadcast, documentation
 *                 and reserved ranges
 *   IPv4 inside IPv6 (::ffff:a.b.c.d mapped, 64:ff9b::/96 NAT64, ::a.b.c.d compatible) is judged by the
 *   IPv4 address inside.
 *   Every resolved address must pass (a name resolving to one public and one private address is
 *   refused), and the caller must connect to a checked address (pin it), not resolve again: otherwise
 *   DNS rebinding swaps the answer between check and use. A host in allowedHosts skips the address check.
 */

export interface UrlPolicy {
  /** Allow loopback, private, unique-local and link-local targets (a receiver on the same network). */
  readonly allowPrivate: boolean;
  /** Host names (lower case) trusted whatever they resolve to. */
  readonly allowedHosts?: readonly string[];
}

export const DEFAULT_URL_POLICY: UrlPolicy = Object.freeze({ allowPrivate: false });

export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'unspecified'
  | 'multicast'
  | 'reserved'
  | 'invalid';

export type UrlVerdict =
  | { readonly ok: true; readonly url: URL; readonly addresses: readonly string[] }
  | {
      readonly ok: false;
      readonly code:
        | 'INVALID_URL'
        | 'SCHEME_NOT_ALLOWED'
        | 'CREDENTIALS_IN_URL'
        | 'ADDRESS_NOT_ALLOWED'
        | 'NOT_RESOLVED';
      readonly message: string;
    };

// ---------------------------------------------------------------------------------------------
// Addresses

function parseIpv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255 || (m[i]!.length > 1 && m[i]!.startsWith('0'))) return undefined;
    n = n * 256 + octet;
  }
  return n;
}

/** Eight 16-bit groups, or undefined. Accepts `::` compression, a trailing dotted IPv4, and a %zone. */
function parseIpv6(input: string): number[] | undefined {
  let s = input.replace(/%.*$/, '').toLowerCase();
  let tail: number[] = [];
  if (s.includes('.')) {
    // A trailing dotted IPv4 stands for the last two groups.
    const at = s.lastIndexOf(':');
    const v4 = at < 0 ? undefined : parseIpv4(s.slice(at + 1));
    if (v4 === undefined) return undefined;
    tail = [v4 >>> 16, v4 & 0xffff];
    s = s.slice(0, at + 1);
    if (!s.endsWith('::')) s = s.slice(0, -1);
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const read = (h: string): number[] | undefined => {
    if (h === '') return [];
    const groups = h.split(':');
    const out: number[] = [];
    for (const g of groups) {
      if (!/^[0-9a-f]{1,4}$/.test(g)) return undefined;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const head = read(halves[0]!);
  const rest = halves.length === 2 ? read(halves[1]!) : [];
  if (!head || !rest) return undefined;
  const given = head.length + rest.length + tail.length;
  if (halves.length === 1) return given === 8 ? [...head, ...tail] : undefined;
  if (given > 7) return undefined;
  return [...head, ...new Array<number>(8 - given).fill(0), ...rest, ...tail];
}

function inV4(n: number, base: string, bits: number): boolean {
  const b = parseIpv4(base)!;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return (n & mask) >>> 0 === (b & mask) >>> 0;
}

function classifyV4(n: number): AddressClass {
  if (inV4(n, '0.0.0.0', 8)) return 'unspecified';
  if (inV4(n, '127.0.0.0', 8)) return 'loopback';
  if (inV4(n, '10.0.0.0', 8) || inV4(n, '172.16.0.0', 12) || inV4(n, '192.168.0.0', 16)) return 'private';
  if (inV4(n, '100.64.0.0', 10)) return 'private';
  if (inV4(n, '169.254.0.0', 16)) return 'link_local';
  if (inV4(n, '224.0.0.0', 4)) return 'multicast';
  if (
    inV4(n, '240.0.0.0', 4) || // reserved, and 255.255.255.255 broadcast
    inV4(n, '192.0.0.0', 24) ||
    inV4(n, '192.0.2.0', 24) ||
    inV4(n, '198.51.100.0', 24) ||
    inV4(n, '203.0.113.0', 24) ||
    inV4(n, '198.18.0.0', 15)
  ) {
    return 'reserved';
  }
  return 'public';
}

/** The class of an IPv4 or IPv6 address literal (brackets allowed). */
export function classifyAddress(address: string): AddressClass {
  const s = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const v4 = parseIpv4(s);
  if (v4 !== undefined) return classifyV4(v4);
  const g = parseIpv6(s);
  if (!g) return 'invalid';
  const embedded = ((g[6]! << 16) >>> 0) + g[7]!;
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 8)) return 'unspecified';
  if (zeros(0, 7) && g[7] === 1) return 'loopback';
  if (zeros(0, 5) && g[5] === 0xffff) return classifyV4(embedded); // ::ffff:a.b.c.d
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return classifyV4(embedded); // NAT64
  if (zeros(0, 6)) return classifyV4(embedded); // ::a.b.c.d (deprecated IPv4-compatible)
  const first = g[0]!;
  if ((first & 0xfe00) === 0xfc00) return 'private'; // fc00::/7 unique local
  if ((first & 0xffc0) === 0xfe80) return 'link_local'; // fe80::/10
  if ((first & 0xffc0) === 0xfec0) return 'private'; // fec0::/10 site-local (deprecated)
  if ((first & 0xff00) === 0xff00) return 'multicast';
  if (first === 0x2001 && g[1] === 0x0db8) return 'reserved'; // documentation
  return 'public';
}

const PRIVATE_CLASSES: ReadonlySet<AddressClass> = new Set(['loopback', 'private', 'link_local']);

/** Whether one address may be called under the policy. */
export function addressAllowed(address: string, policy: UrlPolicy = DEFAULT_URL_POLICY): boolean {
  const c = classifyAddress(address);
  return c === 'public' || (policy.allowPrivate && PRIVATE_CLASSES.has(c));
}

// ---------------------------------------------------------------------------------------------
// URLs

/**
 * The verdict on a callback URL. `resolved` are the addresses its host resolved to (ignored for an IP
 * literal host, which is judged itself).
 */
export function checkCallbackUrl(
  raw: string,
  resolved: readonly string[],
  policy: UrlPolicy = DEFAULT_URL_POLICY,
): UrlVerdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, code: 'INVALID_URL', message: 'callbackUrl is not an absolute URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return {
      ok: false,
      code: 'SCHEME_NOT_ALLOWED',
      message: `callbackUrl must be http or https, not ${url.protocol.slice(0, -1)}`,
    };
  }
  if (url.username !== '' || url.password !== '') {
    return {
      ok: false,
      code: 'CREDENTIALS_IN_URL',
      message: 'callbackUrl must not contain a user name or password',
    };
  }
  const host = url.hostname.toLowerCase();
  const literal = classifyAddress(host) !== 'invalid';
  if (!literal && policy.allowedHosts?.includes(host)) return { ok: true, url, addresses: resolved };
  const addresses = literal ? [host.replace(/^\[|\]$/g, '')] : resolved;
  if (addresses.length === 0) return { ok: false, code: 'NOT_RESOLVED', message: `${host} did not resolve` };
  for (const a of addresses) {
    if (!addressAllowed(a, policy)) {
      return {
        ok: false,
        code: 'ADDRESS_NOT_ALLOWED',
        message: `${host} resolves to ${a} (${classifyAddress(a)}), which callbacks may not reach`,
      };
    }
  }
  return { ok: true, url, addresses };
}
