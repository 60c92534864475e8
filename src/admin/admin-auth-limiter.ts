import { GenerationalMap } from '../common/generational-map';
import { ADMIN_AUTH_MAX_FAILURES, ADMIN_AUTH_WINDOW_MS } from './admin.constants';

interface Failures {
  count: number;
  /** Epoch ms the window ends; the count restarts after it. */
  resetAt: number;
}

/**
 * Counts failed admin authentications per client IP in fixed windows. Past the limit every
 * attempt from that IP, right or wrong, gets 429 until the window ends, so a token cannot be
 * guessed at request speed. Memory is capped (least recently used IPs dropped first).
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

  /** Seconds the IP must wait, or 0 when it may try. */
  retryAfterSeconds(ip: string): number {
    const entry = this.failures.get(ip);
    const now = this.now();
    if (entry === undefined || entry.resetAt <= now || entry.count < this.maxFailures) {
      return 0;
    }
    return Math.max(1, Math.ceil((entry.resetAt - now) / 1000));
  }

  recordFailure(ip: string): void {
    const now = this.now();
    const entry = this.failures.get(ip);
    if (entry === undefined || entry.resetAt <= now) {
      this.failures.set(ip, { count: 1, resetAt: now + this.windowMs });
    } else {
      entry.count++;
    }
  }
}
