import type { Upstream } from '../upstream';
import { isEligible, type BalancingStrategy } from './balancing-strategy.interface';

/**
 * Fewest in-flight requests per unit of weight. The scan starts at a rotating offset so ties are
 * shared instead of always going to the first upstream (the Go gateway's bias).
 */
export class LeastConnectionsStrategy implements BalancingStrategy {
  private offset = 0;

  pick(upstreams: readonly Upstream[], _clientIp?: string, panic = false): Upstream | undefined {
    const n = upstreams.length;
    let best: Upstream | undefined;
    let bestScore = Infinity;
    const start = this.offset;
    this.offset = (start + 1) % n;
    for (let i = 0; i < n; i++) {
      const u = upstreams[(start + i) % n];
      if (!isEligible(u, panic)) {
        continue;
      }
      const score = u.inFlight / u.weight;
      if (score < bestScore) {
        bestScore = score;
        best = u;
      }
    }
    return best;
  }
}
