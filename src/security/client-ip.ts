import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** Strips the IPv4-mapped prefix so `::ffff:1.2.3.4` and `1.2.3.4` are one client. */
export function normalizeIp(ip: string | undefined): string {
  if (!ip) {
    return '';
  }
  if (ip.length > 7 && ip.charCodeAt(0) === 58 /* : */ && ip.startsWith('::ffff:')) {
    const v4 = ip.slice(7);
    if (isIPv4(v4)) {
      return v4;
    }
  }
  return ip;
}

/**
 * The one client-IP rule used by logs, limits, lists and ip-hash: the socket peer, unless the peer
 * is a trusted proxy, in which case `X-Forwarded-For` is walked from the right past trusted hops.
 * Never the leftmost value, which any client can write (seed-spec D11).
 */
export class ClientIpResolver {
  private readonly trusted: BlockList;
  readonly hasTrustedProxies: boolean;

  constructor(trustedProxies: readonly string[]) {
    this.trusted = new BlockList();
    for (const entry of trustedProxies) {
      addToBlockList(this.trusted, entry);
    }
    this.hasTrustedProxies = trustedProxies.length > 0;
  }

  isTrusted(ip: string): boolean {
    if (!this.hasTrustedProxies || ip === '') {
      return false;
    }
    return this.trusted.check(ip, isIPv6(ip) ? 'ipv6' : 'ipv4');
  }

  /** `peer` is the normalised socket address. */
  resolve(peer: string, xForwardedFor: string | string[] | undefined): string {
    if (xForwardedFor === undefined || !this.isTrusted(peer)) {
      return peer;
    }
    const chain = (Array.isArray(xForwardedFor) ? xForwardedFor.join(',') : xForwardedFor).split(
      ',',
    );
    let client = peer;
    for (let i = chain.length - 1; i >= 0; i--) {
      const hop = normalizeIp(chain[i].trim());
      if (!isIPv4(hop) && !isIPv6(hop)) {
        // A garbled hop ends the trusted chain: believe only what a trusted proxy vouched for.
        break;
      }
      client = hop;
      if (!this.isTrusted(hop)) {
        break;
      }
    }
    return client;
  }
}

/** Adds `1.2.3.4`, `10.0.0.0/8` or `2001:db8::/32` to a BlockList; throws on anything else. */
export function addToBlockList(list: BlockList, entry: string): void {
  const [addr, bits] = entry.trim().split('/');
  const ip = normalizeIp(addr);
  const family = isIPv4(ip) ? 'ipv4' : isIPv6(ip) ? 'ipv6' : undefined;
  if (!family) {
    throw new Error(`not an IP address or CIDR: "${entry}"`);
  }
  if (bits === undefined) {
    list.addAddress(ip, family);
    return;
  }
  const prefix = Number(bits);
  const max = family === 'ipv4' ? 32 : 128;
  if (!/^\d+$/.test(bits) || prefix > max) {
    throw new Error(`invalid CIDR prefix length in "${entry}"`);
  }
  list.addSubnet(ip, prefix, family);
}

/**
 * The key a client is limited, counted and blocked by: an IPv4 address itself; an IPv6 address
 * reduced to its network of `v6Prefix` bits (`2001:db8:1:2::/64`), since a subscriber is handed a
 * whole /64 or more and can rotate through it for free. `v6Prefix` 128 keeps every address apart.
 * IPv4 clients pay one character scan.
 */
export function clientKey(ip: string, v6Prefix: number): string {
  if (v6Prefix >= 128 || ip.indexOf(':') === -1) {
    return ip;
  }
  const groups = ipv6Groups(ip);
  if (groups === undefined) {
    return ip;
  }
  for (let i = 0; i < 8; i++) {
    const bits = v6Prefix - i * 16;
    if (bits <= 0) {
      groups[i] = 0;
    } else if (bits < 16) {
      groups[i] &= (0xffff << (16 - bits)) & 0xffff;
    }
  }
  return `${formatIpv6(groups)}/${v6Prefix}`;
}

/** An IP address, or an IPv6 network as {@link clientKey} writes it (`2001:db8:1:2::/64`). */
export function isClientKey(value: string): boolean {
  const slash = value.indexOf('/');
  if (slash === -1) {
    return isIPv4(value) || isIPv6(value);
  }
  const bits = value.slice(slash + 1);
  return isIPv6(value.slice(0, slash)) && /^\d{1,3}$/.test(bits) && Number(bits) <= 128;
}

/** The eight 16-bit groups of an IPv6 address (zone dropped, embedded IPv4 read); else undefined. */
function ipv6Groups(address: string): number[] | undefined {
  const zone = address.indexOf('%');
  let ip = zone === -1 ? address : address.slice(0, zone);
  const lastColon = ip.lastIndexOf(':');
  if (ip.indexOf('.', lastColon) !== -1) {
    // `::ffff:1.2.3.4` is `::ffff:102:304`.
    const v4 = ip.slice(lastColon + 1);
    if (!isIPv4(v4)) {
      return undefined;
    }
    const [a, b, c, d] = v4.split('.').map(Number);
    ip = `${ip.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const parse = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').map((h) => (/^[0-9a-f]{1,4}$/i.test(h) ? parseInt(h, 16) : NaN));
  const double = ip.indexOf('::');
  let groups: number[];
  if (double === -1) {
    groups = parse(ip);
  } else {
    const head = parse(ip.slice(0, double));
    const rest = parse(ip.slice(double + 2));
    const missing = 8 - head.length - rest.length;
    if (missing < 1) {
      return undefined;
    }
    groups = [...head, ...new Array<number>(missing).fill(0), ...rest];
  }
  return groups.length === 8 && groups.every((g) => g >= 0) ? groups : undefined;
}

/** RFC 5952 text: lower-case hex, the longest run of two or more zero groups as `::`. */
function formatIpv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) {
      j++;
    }
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) {
    return hex.join(':');
  }
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
