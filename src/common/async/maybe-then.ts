/**
 * Runs `next` after `value` without creating a promise when `value` is not one. The edge checks
 * are synchronous on the common path (memory buckets, cached keys) and only sometimes wait on
 * Redis or a JWKS fetch; this keeps the common path free of promise allocations and ticks.
 */
export function maybeThen<T, R>(
  value: T | Promise<T>,
  next: (v: T) => R | Promise<R>,
): R | Promise<R> {
  return value instanceof Promise ? value.then(next) : next(value);
}
