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
