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
  // One request asks up to three times in a row (flood check, flood count, buckets).
  if (ip === lastV6.ip && v6Prefix === lastV6.prefix) {
    return lastV6.key;
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
  const key = `${formatIpv6(groups)}/${v6Prefix}`;
  lastV6.ip = ip;
  lastV6.prefix = v6Prefix;
  lastV6.key = key;
  return key;
}

/** The last IPv6 network computed by {@link clientKey}. */
const lastV6 = { ip: '', prefix: 0, key: '' };

/** An IP address, or an IPv6 network as {@link clientKey} writes it (`2001:db8:1:2::/64`). */
export function isClientKey(value: string): boolean {
  const slash = value.indexOf('/');
  if (slash === -1) {
    return isIPv4(value) || isIPv6(value);
  }
  const bits = value.slice(slash + 1);
  return isIPv6(value.slice(0, slash)) && /^\d{1,3}$/.test(bits) && Number(bits) <= 128;
}

/**
 * The eight 16-bit groups of an IPv6 address (zone dropped, embedded IPv4 read); else undefined.
 * Hand-written rather than split and matched: it runs for every request of an IPv6 client.
 */
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
  const groups: number[] = [];
  let gap = -1;
  let value = 0;
  let digits = 0;
  const n = ip.length;
  for (let i = 0; i < n; i++) {
    const c = ip.charCodeAt(i);
    if (c === 58 /* : */) {
      if (i + 1 < n && ip.charCodeAt(i + 1) === 58) {
        // `::` stands for one or more zero groups; only one is allowed.
        if (gap !== -1) {
          return undefined;
        }
        if (digits > 0) {
          groups.push(value);
        }
        gap = groups.length;
        value = 0;
        digits = 0;
        i++;
        continue;
      }
      if (digits === 0 || i + 1 === n) {
        return undefined;
      }
      groups.push(value);
      value = 0;
      digits = 0;
      continue;
    }
    const hex =
      c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (hex === -1 || digits === 4) {
      return undefined;
    }
    value = value * 16 + hex;
    digits++;
  }
  if (digits > 0) {
    groups.push(value);
  }
  if (gap === -1) {
    return groups.length === 8 ? groups : undefined;
  }
  if (groups.length > 7) {
    return undefined;
  }
  // The groups after the gap move to the end; zeros in between.
  const out = [0, 0, 0, 0, 0, 0, 0, 0];
  for (let k = 0; k < gap; k++) {
    out[k] = groups[k];
  }
  const tail = groups.length - gap;
  for (let k = 0; k < tail; k++) {
    out[8 - tail + k] = groups[gap + k];
  }
  return out;
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
  let out = '';
  let colon = false;
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += '::';
      i += bestLength - 1;
      colon = false;
      continue;
    }
    if (colon) {
      out += ':';
    }
    out += hex16(groups[i]);
    colon = true;
  }
  return out;
}

const HEX = '0123456789abcdef';

/** A 16-bit group in lower-case hex without leading zeros (Number#toString(16) is slow in V8). */
function hex16(v: number): string {
  if (v < 0x10) {
    return HEX[v];
  }
  if (v < 0x100) {
    return HEX[v >> 4] + HEX[v & 15];
  }
  if (v < 0x1000) {
    return HEX[v >> 8] + HEX[(v >> 4) & 15] + HEX[v & 15];
  }
  return HEX[v >> 12] + HEX[(v >> 8) & 15] + HEX[(v >> 4) & 15] + HEX[v & 15];
}
