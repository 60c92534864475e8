/** Defaults of {@link RateLimitService}, from `MAX_REQUESTS_PER_SECOND` / `MAX_BURST_SIZE`. */
export interface RateLimitOptions {
  /** Tokens refilled per second. @default 100 */
  rate: number;
  /** Bucket capacity. @default 200 */
  burst: number;
}

/** DI token of the {@link RateLimitOptions}. */
export const RATE_LIMIT_OPTIONS = Symbol('RateLimitOptions');
