import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/**
 * Where the server may send requests on a user's behalf (webhooks): only to
 * public addresses, so that a URL cannot make it reach its own network
 * (loopback, private ranges, the cloud metadata service on 169.254.169.254).
 * A URL is checked when it is registered and again before each request, and
 * the request then connects to the very address that was checked (see
 * `resolvePublicAddress`): a DNS answer that changes in between (rebinding)
 * is caught at the second check and cannot slip past it.
 */

export type AddressFamily = 4 | 6;

interface Range {
  family: AddressFamily;
  /** The network's bytes; only the first `prefix` bits count. */
  network: Uint8Array;
  prefix: number;
  cidr: string;
  name: string;
}

/** Why an address is refused: the name of its range and the range itself. */
export interface NonPublicRange {
  name: string;
  cidr: string;
}

function range(cidr: string, name: string): Range {
  const [address, bits] = cidr.split('/');
  const parsed = parseIp(address);
  if (!parsed) throw new Error(`bad range ${cidr}`);
  return { ...parsed, network: parsed.bytes, prefix: Number(bits), cidr, name };
}

// IANA's special-purpose registries (RFC 6890 and successors): everything here is either not
// routable on the internet or reaches something other than the host it names.
const IPV4_RANGES: Range[] = [
  range('0.0.0.0/8', '"this network"'),
  range('10.0.0.0/8', 'private'),
  range('100.64.0.0/10', 'shared (carrier-grade NAT)'),
  range('127.0.0.0/8', 'loopback'),
  range('169.254.0.0/16', 'link-local'),
  range('172.16.0.0/12', 'private'),
  range('192.0.0.0/24', 'IETF protocol assignment'),
  range('192.0.2.0/24', 'documentation'),
  range('192.88.99.0/24', '6to4 relay'),
  range('192.168.0.0/16', 'private'),
  range('198.18.0.0/15', 'benchmarking'),
  range('198.51.100.0/24', 'documentation'),
  range('203.0.113.0/24', 'documentation'),
  range('224.0.0.0/4', 'multicast'),
  range('240.0.0.0/4', 'reserved'),
];

const IPV6_RANGES: Range[] = [
  range('::/128', 'unspecified'),
  range('::1/128', 'loopback'),
  range('::/96', 'IPv4-compatible (deprecated)'),
  range('64:ff9b:1::/48', 'local-use NAT64'),
  range('100::/64', 'discard-only'),
  range('2001:db8::/32', 'documentation'),
  range('2001::/23', 'IETF protocol assignment'),
  range('3fff::/20', 'documentation'),
  range('fc00::/7', 'unique local (private)'),
  range('fe80::/10', 'link-local'),
  range('fec0::/10', 'site-local'),
  range('ff00::/8', 'multicast'),
];

/** IPv6 forms that carry an IPv4 address: where it sits, in bytes. The IPv4 address decides. */
const EMBEDDING_IPV4: { range: Range; offset: number }[] = [
  { range: range('::ffff:0:0/96', 'IPv4-mapped'), offset: 12 },
  { range: range('64:ff9b::/96', 'NAT64'), offset: 12 },
  { range: range('2002::/16', '6to4'), offset: 2 },
];

const GLOBAL_UNICAST_V6 = range('2000::/3', 'global unicast');

function inRange(bytes: Uint8Array, r: Range): boolean {
  if (bytes.length !== r.network.length) return false;
  const full = r.prefix >> 3;
  for (let i = 0; i < full; i++) if (bytes[i] !== r.network[i]) return false;
  const rest = r.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (bytes[full] & mask) === (r.network[full] & mask);
}

function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
  return Uint8Array.from(parts.map(Number));
}

function parseIpv6(text: string): Uint8Array | null {
  let s = text.replace(/%.*$/, '');
  const bytes = new Uint8Array(16);
  // A trailing dotted quad stands for the last two groups.
  const dotted = s.match(/^(.*:)(\d+\.\d+\.\d+\.\d+)$/);
  if (dotted) {
    const v4 = parseIpv4(dotted[2]);
    if (!v4) return null;
    s = `${dotted[1]}${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || (halves.length === 2 && missing < 1)) return null;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  for (const [i, g] of all.entries()) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    const v = Number.parseInt(g, 16);
    bytes[2 * i] = v >> 8;
    bytes[2 * i + 1] = v & 0xff;
  }
  return bytes;
}

/** An IP address as bytes, or null when `text` is not one. IPv6 may carry a zone (`%eth0`) and a trailing dotted quad. */
export function parseIp(text: string): { family: AddressFamily; bytes: Uint8Array } | null {
  const v4 = parseIpv4(text);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = text.includes(':') ? parseIpv6(text) : null;
  return v6 ? { family: 6, bytes: v6 } : null;
}

function classifyBytes(family: AddressFamily, bytes: Uint8Array): NonPublicRange | null {
  if (family === 4) {
    const hit = IPV4_RANGES.find((r) => inRange(bytes, r));
    return hit ? { name: hit.name, cidr: hit.cidr } : null;
  }
  for (const { range: r, offset } of EMBEDDING_IPV4) {
    if (!inRange(bytes, r)) continue;
    const inner = classifyBytes(4, bytes.slice(offset, offset + 4));
    return inner ? { name: `${r.name} ${inner.name}`, cidr: inner.cidr } : null;
  }
  const hit = IPV6_RANGES.find((r) => inRange(bytes, r));
  if (hit) return { name: hit.name, cidr: hit.cidr };
  // Outside 2000::/3 nothing is assigned for use on the internet.
  return inRange(bytes, GLOBAL_UNICAST_V6) ? null : { name: 'reserved', cidr: 'outside 2000::/3' };
}

/**
 * The non-public range `address` lies in (loopback, private, link-local,
 * reserved...), or null for a public address. IPv6 forms that embed an IPv4
 * address (mapped, NAT64, 6to4) are judged by that address. Throws for text
 * that is not an IP address.
 */
export function nonPublicRange(address: string): NonPublicRange | null {
  const parsed = parseIp(address);
  if (!parsed) throw new Error(`not an IP address: ${address}`);
  return classifyBytes(parsed.family, parsed.bytes);
}

/** Why a URL may not be used: `field` is prefixed to every message ("url resolves to ..."). */
export class OutboundAddressError extends Error {
  constructor(
    readonly reason: 'invalid-url' | 'scheme' | 'credentials' | 'non-public' | 'unresolved',
    message: string,
  ) {
    super(message);
    this.name = 'OutboundAddressError';
    Object.setPrototypeOf(this, OutboundAddressError.prototype);
  }
}

export interface OutboundPolicy {
  /** Accept private, loopback, link-local and other non-public addresses (WEBHOOK_ALLOW_PRIVATE_NETWORKS). */
  allowPrivate: boolean;
  /** Accept http:// as well as https:// (WEBHOOK_ALLOW_HTTP). */
  allowHttp: boolean;
  /** Name of the field the URL came in, for messages. */
  field?: string;
  /** Longest a DNS answer may take. */
  dnsTimeoutMs?: number;
  /** The resolver; tests give their own. */
  resolve?: (hostname: string) => Promise<{ address: string; family: number }[]>;
}

export interface CheckedUrl {
  url: URL;
  /** The address to connect to: the one that was checked. */
  address: string;
  family: AddressFamily;
}

const systemResolve = (hostname: string) => lookup(hostname, { all: true, verbatim: true });

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(Object.assign(new Error(what), { code: 'ETIMEOUT' })), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Checks the form of a URL (absolute, http(s), no credentials) without resolving it. */
export function checkUrlForm(raw: string, policy: Pick<OutboundPolicy, 'allowHttp' | 'field'>): URL {
  const field = policy.field ?? 'url';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundAddressError('invalid-url', `${field} must be an absolute URL such as https://example.com/hooks, got ${JSON.stringify(raw.slice(0, 200))}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new OutboundAddressError('scheme', `${field} must use https${policy.allowHttp ? ' or http' : ''}, got ${url.protocol.replace(/:$/, '')}`);
  }
  if (url.protocol === 'http:' && !policy.allowHttp) {
    throw new OutboundAddressError('scheme', `${field} must use https (this server refuses plain http: WEBHOOK_ALLOW_HTTP is off)`);
  }
  if (url.username || url.password) throw new OutboundAddressError('credentials', `${field} must not carry a user name or password`);
  return url;
}

/**
 * Resolves the URL's host and checks every address it has: one non-public
 * address refuses the URL (unless the policy allows private networks),
 * since a resolver may hand out any of them. Returns the address to
 * connect to. Throws OutboundAddressError.
 */
export async function resolvePublicAddress(raw: string, policy: OutboundPolicy): Promise<CheckedUrl> {
  const field = policy.field ?? 'url';
  const url = checkUrlForm(raw, policy);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: { address: string; family: AddressFamily }[];
  if (isIP(host)) {
    addresses = [{ address: host, family: isIP(host) as AddressFamily }];
  } else {
    try {
      const found = await withTimeout((policy.resolve ?? systemResolve)(host), policy.dnsTimeoutMs ?? 5000, `no answer within ${policy.dnsTimeoutMs ?? 5000} ms`);
      addresses = found.filter((a) => a.family === 4 || a.family === 6).map((a) => ({ address: a.address, family: a.family as AddressFamily }));
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw new OutboundAddressError('unresolved', `${field} host ${JSON.stringify(host)} does not resolve${code ? ` (${code})` : ''}`);
    }
    if (addresses.length === 0) throw new OutboundAddressError('unresolved', `${field} host ${JSON.stringify(host)} has no address`);
  }
  if (!policy.allowPrivate) {
    for (const { address } of addresses) {
      const refused = nonPublicRange(address);
      if (refused) {
        const via = address === host ? '' : ` (host ${JSON.stringify(host)})`;
        throw new OutboundAddressError(
          'non-public',
          `${field} resolves to ${address}${via}, in the ${refused.name} range ${refused.cidr}; webhooks are sent to public addresses only`,
        );
      }
    }
  }
  return { url, ...addresses[0] };
}
