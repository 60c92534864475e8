import type { BalancingStrategy } from './strategies/balancing-strategy.interface';
import type { Upstream } from './upstream';

/** A route's upstreams plus the strategy that chooses among them. */
export class UpstreamGroup {
  constructor(
    readonly upstreams: readonly Upstream[],
    private readonly strategy: BalancingStrategy,
  ) {
    for (const upstream of upstreams) {
      upstream.peers = upstreams;
    }
  }

  pick(clientIp: string): Upstream | undefined {
    // One upstream is the common case; skip the strategy's bookkeeping for it.
    if (this.upstreams.length === 1) {
      const only = this.upstreams[0];
      return only.isAvailable() ? only : undefined;
    }
    return this.strategy.pick(this.upstreams, clientIp);
  }
}
