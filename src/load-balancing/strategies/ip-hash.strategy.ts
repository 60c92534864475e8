import { hash32, type Upstream } from '../upstream';
import { isEligible, type BalancingStrategy } from './balancing-strategy.interface';

/**
 * Weighted rendezvous (highest-random-weight) hashing on the client IP: each client keeps its
 * upstream while the set is stable, and removing one of N upstreams remaps only the ~1/N clients
 * that were on it. No ring to rebuild when health changes.
 */
export class IpHashStrategy implements BalancingStrategy {
  pick(upstreams: readonly Upstream[], clientIp: string, panic = false): Upstream | undefined {
    const ipHash = hash32(clientIp);
    let best: Upstream | undefined;
    let bestScore = -Infinity;
    for (const u of upstreams) {
      if (!isEligible(u, panic)) {
        continue;
      }
      // (0,1] uniform from the pair's hash; -w/ln(x) gives shares proportional to weight.
      const x = (mix(ipHash ^ u.hashSeed) + 1) / 4294967296;
      const score = -u.weight / Math.log(x);
      if (score > bestScore) {
        bestScore = score;
        best = u;
      }
    }
    return best;
  }
}

/** murmur3 finaliser: FNV alone leaves low-entropy high bits for similar keys. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
