import type { Upstream } from '../upstream';

/** Picks an available upstream, or `undefined` when none is. Implementations keep their own state. */
export interface BalancingStrategy {
  pick(upstreams: readonly Upstream[], clientIp: string): Upstream | undefined;
}
