import type { Upstream } from '../upstream';

/**
 * Picks an eligible upstream, or `undefined` when none is. Implementations keep their own state.
 * With `panic`, eligibility is `isPanicCandidate()` instead of `isAvailable()` (see
 * `UpstreamGroup`).
 */
export interface BalancingStrategy {
  pick(upstreams: readonly Upstream[], clientIp: string, panic?: boolean): Upstream | undefined;
}

export function isEligible(upstream: Upstream, panic: boolean): boolean {
  return panic ? upstream.isPanicCandidate() : upstream.isAvailable();
}
