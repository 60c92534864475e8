/** The outcome of one rate-limit check, with everything the response headers need. */
export interface RateDecision {
  /** The request may proceed (a token was taken). */
  allowed: boolean;
  /** Bucket capacity (`burst`): the most requests allowed at once. */
  limit: number;
  /** Whole tokens left after this request. */
  remaining: number;
  /** Seconds until the bucket is full again, i.e. the whole quota is restored. */
  resetSeconds: number;
  /** Seconds until a request would be admitted; 0 when allowed, at least 1 when denied. */
  retryAfterSeconds: number;
  /** Policy name shown in `RateLimit-Policy` / `RateLimit` (e.g. `default` or a route name). */
  policy: string;
  /**
   * Window of the advertised policy in seconds: the time an empty bucket takes to refill
   * (`ceil(burst / rate)`), so `q` per `w` is the sustained rate. Optional (as `w` is in the
   * draft): decisions built by hand may leave it out.
   */
  windowSeconds?: number;
}

/** Policy names become sf-strings (RFC 8941 §3.3.3): only printable ASCII, `"` and `\` escaped. */
function sfString(value: string): string {
  const printable = value.replace(/[^\x20-\x7e]/g, '');
  return `"${printable.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * Response headers for a decision, as [name, value] pairs:
 *
 * - `RateLimit-Policy` and `RateLimit` in the syntax of the current IETF draft
 *   (draft-ietf-httpapi-ratelimit-headers-10, §3 and §4): a Structured Fields list whose items
 *   are a quoted policy name with parameters; `q` is the quota and `w` the window in seconds
 *   (policy), `r` the remaining quota and `t` the seconds until it resets (current state). E.g.
 *   `RateLimit-Policy: "default";q=200;w=2` and `RateLimit: "default";r=57;t=2`;
 * - the de-facto `X-RateLimit-Limit/-Remaining/-Reset` (Reset in delta seconds, as
 *   @nestjs/throttler sends it), which most existing clients still read;
 * - `Retry-After` (RFC 9110 §10.2.3, delay-seconds) only on a denial.
 *
 * Names are lower-case: HTTP/1.1 matches them case-insensitively and HTTP/2 requires it.
 */
export function rateLimitHeaders(d: RateDecision): [string, string][] {
  const flat = rateLimitHeaderList(d);
  const pairs: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) {
    pairs.push([flat[i], flat[i + 1]]);
  }
  return pairs;
}

/** Policy names are few (`default`, route names): quote each once. */
const quoted = new Map<string, string>();

/** The same headers as a flat `[name, value, …]` list, for the hot path. */
export function rateLimitHeaderList(d: RateDecision): string[] {
  let policy = quoted.get(d.policy);
  if (policy === undefined) {
    policy = sfString(d.policy);
    if (quoted.size < 1024) {
      quoted.set(d.policy, policy);
    }
  }
  const headers = [
    'ratelimit-policy',
    d.windowSeconds === undefined
      ? `${policy};q=${d.limit}`
      : `${policy};q=${d.limit};w=${d.windowSeconds}`,
    'ratelimit',
    `${policy};r=${d.remaining};t=${d.resetSeconds}`,
    'x-ratelimit-limit',
    String(d.limit),
    'x-ratelimit-remaining',
    String(d.remaining),
    'x-ratelimit-reset',
    String(d.resetSeconds),
  ];
  if (!d.allowed) {
    headers.push('retry-after', String(d.retryAfterSeconds));
  }
  return headers;
}

/**
 * The headers of a flood block: a 429 like any other, with Retry-After and the RateLimit headers
 * under a `flood` policy of `threshold` requests per 60 s window, nothing left.
 */
export function floodHeaderList(threshold: number, retryAfterSeconds: number): string[] {
  return rateLimitHeaderList({
    allowed: false,
    limit: threshold,
    remaining: 0,
    resetSeconds: retryAfterSeconds,
    retryAfterSeconds,
    policy: 'flood',
    windowSeconds: 60,
  });
}
