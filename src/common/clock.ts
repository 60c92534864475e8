/**
 * A source of milliseconds, injected wherever time decides an outcome (token refill, block
 * expiry) so tests can step time exactly instead of sleeping.
 */
export type Clock = () => number;

/**
 * Monotonic milliseconds: never jumps when NTP or an operator changes the wall clock, so a
 * bucket cannot be refilled (or starved) by a clock step. Only differences are meaningful.
 */
export const monotonicClock: Clock = () => performance.now();

/** Wall-clock epoch milliseconds, for state shared with other processes (Redis) or shown to people. */
export const wallClock: Clock = () => Date.now();
