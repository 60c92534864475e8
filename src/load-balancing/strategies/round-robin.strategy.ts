import type { Upstream } from '../upstream';
import { isEligible, type BalancingStrategy } from './balancing-strategy.interface';

/** Equal shares; unavailable upstreams are skipped without disturbing the rotation for others. */
export class RoundRobinStrategy implements BalancingStrategy {
  private next = 0;

  pick(upstreams: readonly Upstream[], _clientIp?: string, panic = false): Upstream | undefined {
    const n = upstreams.length;
    for (let i = 0; i < n; i++) {
      const candidate = upstreams[(this.next + i) % n];
      if (isEligible(candidate, panic)) {
        this.next = (this.next + i + 1) % n;
        return candidate;
      }
    }
    return undefined;
  }
}
