import { BlockList, isIPv6 } from 'node:net';

/** Ranges load balancers and ingress controllers connect from, with the CIDR to suggest. */
const PRIVATE_RANGES: readonly [address: string, prefix: number, family: 'ipv4' | 'ipv6'][] = [
  ['10.0.0.0', 8, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['::1', 128, 'ipv6'],
];

const PRIVATE = new BlockList();
for (const [address, prefix, family] of PRIVATE_RANGES) {
  PRIVATE.addSubnet(address, prefix, family);
}

/** The private or loopback range holding `ip`, as `TRUSTED_PROXIES` would name it. */
export function privateRangeOf(ip: string): string | undefined {
  const family = isIPv6(ip) ? 'ipv6' : 'ipv4';
  if (ip === '' || !PRIVATE.check(ip, family)) {
    return undefined;
  }
  for (const [address, prefix, f] of PRIVATE_RANGES) {
    if (f === family) {
      const one = new BlockList();
      one.addSubnet(address, prefix, f);
      if (one.check(ip, family)) {
        return `${address}/${prefix}`;
      }
    }
  }
  return undefined;
}

/**
 * Behind a load balancer or ingress with `TRUSTED_PROXIES` empty, every client arrives from the
 * proxy's address: they share one rate limit, one flood counter and one entry in the logs. The
 * tell is `X-Forwarded-For` from a private or loopback peer; this says so once, with the fix.
 * Costs one boolean test per request once it has spoken, or when proxies are configured.
 */
export class UntrustedProxyHint {
  private pending: boolean;

  constructor(
    hasTrustedProxies: boolean,
    private readonly say: (peer: string, range: string) => void,
  ) {
    this.pending = !hasTrustedProxies;
  }

  check(peer: string, forwardedFor: string | string[] | undefined): void {
    if (!this.pending || forwardedFor === undefined) {
      return;
    }
    const range = privateRangeOf(peer);
    if (range !== undefined) {
      this.pending = false;
      this.say(peer, range);
    }
  }
}

/** The log line, written once. */
export function untrustedProxyMessage(peer: string, range: string): string {
  return (
    `requests from ${peer} carry X-Forwarded-For, but TRUSTED_PROXIES is empty: every client ` +
    `behind that proxy is seen as ${peer} and shares its rate limit, flood counter and IP lists. ` +
    `If ${peer} is your load balancer or ingress, set TRUSTED_PROXIES to its address or range ` +
    `(e.g. TRUSTED_PROXIES=${range}); otherwise ignore this (logged once)`
  );
}
