import { GenerationalMap } from '../common/generational-map';
import { ADMIN_AUTH_MAX_FAILURES, ADMIN_AUTH_WINDOW_MS } from './admin.constants';

interface Failures {
  count: number;
  /** Epoch ms the window ends; the count restarts after it. */
  resetAt: number;
}

/**
 * Counts failed admin authentications per client IP in fixed windows. Only failures are limited:
 * past the limit a failed attempt from that IP gets 429 instead of 401 until the window ends,
 * while the right token (or an admin-scoped key) is always accepted. So nobody can lock the
 * operators out by sending wrong tokens from their address (a shared NAT, a load balancer
 * without `TRUSTED_PROXIES`), and guessing stays pointless: the token has at least 256 bits of
 * choice, and every wrong guess past the limit is answered 429. Memory is capped (least recently
 * used IPs dropped first).
 */
export class AdminAuthLimiter {
  private readonly failures: GenerationalMap<Failures>;

  constructor(
    private readonly maxFailures = ADMIN_AUTH_MAX_FAILURES,
    private readonly windowMs = ADMIN_AUTH_WINDOW_MS,
    maxKeys = 10_000,
    private readonly now: () => number = Date.now,
  ) {
    this.failures = new GenerationalMap(maxKeys);
  }

  /**
   * Counts one failure. @returns the seconds until the IP's window ends when it is now past the
   * limit (answer 429 with that `Retry-After`), or 0 (answer 401).
   */
  recordFailure(ip: string): number {
    const now = this.now();
    let entry = this.failures.get(ip);
    if (entry === undefined || entry.resetAt <= now) {
      entry = { count: 0, resetAt: now + this.windowMs };
      this.failures.set(ip, entry);
    }
    entry.count++;
    if (entry.count <= this.maxFailures) {
      return 0;
    }
    return Math.max(1, Math.ceil((entry.resetAt - now) / 1000));
  }
}
