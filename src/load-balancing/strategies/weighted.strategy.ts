import type { Upstream } from '../upstream';
import { isEligible, type BalancingStrategy } from './balancing-strategy.interface';

/**
 * Smooth weighted round-robin (nginx `ngx_http_upstream_get_peer`): weights 5,1,1 give
 * a a b a c a a rather than five a's in a row.
 */
export class WeightedStrategy implements BalancingStrategy {
  private readonly current = new Map<Upstream, number>();

  pick(upstreams: readonly Upstream[], _clientIp?: string, panic = false): Upstream | undefined {
    let best: Upstream | undefined;
    let bestWeight = -Infinity;
    let total = 0;
    for (const u of upstreams) {
      if (!isEligible(u, panic)) {
        continue;
      }
      const w = (this.current.get(u) ?? 0) + u.weight;
      this.current.set(u, w);
      total += u.weight;
      if (w > bestWeight) {
        bestWeight = w;
        best = u;
      }
    }
    if (best) {
      this.current.set(best, bestWeight - total);
    }
    return best;
  }
}
