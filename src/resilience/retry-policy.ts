/**
 * When a failed upstream attempt may be tried again, and how long to wait first. Pure functions:
 * the proxy owns the attempt loop, the budget and the timers.
 *
 * The rule is "retry only what cannot have done anything twice" (seed-spec D4: the Go gateway
 * retried POSTs after timeouts, and retried bodied requests whose body was already consumed).
 */

import { STALLED_ERROR_CODE } from './classify-outcome';

/** Request headers as Node gives them: lower-case names. */
export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * Methods that are idempotent by definition (RFC 9110 §9.2.2). PATCH and POST are not. Method
 * names are case-sensitive (RFC 9110 §9.1), so `get` is not `GET`.
 */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'OPTIONS',
  'PUT',
  'DELETE',
  'TRACE',
]);

/**
 * Errors raised before any byte of the request left the gateway, so retrying them is safe for
 * every method: the upstream cannot have seen the request.
 * - `ECONNREFUSED`: nothing listens on the port;
 * - `UND_ERR_CONNECT_TIMEOUT`: undici's connect timeout (`UPSTREAM_CONNECT_TIMEOUT`) fired;
 * - `ENOTFOUND`, `EAI_AGAIN`: DNS has no answer (permanently / for now);
 * - `EHOSTUNREACH`, `ENETUNREACH`, `EHOSTDOWN`, `ENETDOWN`: no route to the upstream;
 * - `EADDRNOTAVAIL`: no local address/port to connect from (ephemeral ports exhausted).
 *
 * TLS handshake failures are deliberately absent: they are configuration errors (expired or
 * mismatched certificate) that retries only hide and slow down.
 */
export const CONNECT_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EADDRNOTAVAIL',
]);

/**
 * The connection broke after the request (or part of it) may have been sent: the upstream may
 * have acted, so only idempotent requests are retried.
 * - `ECONNRESET`, `EPIPE`, `ECONNABORTED`: the peer closed or reset the socket (including the
 *   classic race where a pooled keep-alive socket is closed by the upstream just as we reuse it);
 * - `UND_ERR_SOCKET`: undici's "other side closed";
 * - `ETIMEDOUT`: the kernel gave up on an established connection (undici's own connect timeout
 *   fires long before the kernel's SYN timeout, so this is not a connect error in practice).
 *
 * Header and body timeouts (`UND_ERR_HEADERS_TIMEOUT`, `UND_ERR_BODY_TIMEOUT`) are never retried:
 * the route timeout bounds the whole exchange, and a retry would double a wait the client has
 * already sat through (the Go gateway's 3 × timeout worst case, seed-spec §4.5).
 */
export const RESET_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'ETIMEDOUT',
]);

/**
 * Upstream answers that mean "not now, try elsewhere": bad gateway, unavailable, gateway
 * timeout. 500 is not here: an application error usually repeats on every replica.
 */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

/**
 * The request may safely be performed twice: an idempotent method, or any request carrying a
 * non-empty `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header), which tells the
 * upstream to deduplicate it.
 */
export function isIdempotent(method: string, headers: RequestHeaders): boolean {
  if (IDEMPOTENT_METHODS.has(method)) {
    return true;
  }
  const key = headers['idempotency-key'];
  if (key === undefined) {
    return false;
  }
  return typeof key === 'string' ? key !== '' : key.some((value) => value !== '');
}

export interface RetryContext {
  method: string;
  /** The client's request headers (lower-case names). */
  headers: RequestHeaders;
  /** The failed attempt's transport error. */
  error?: { code?: string };
  /** The failed attempt's response status, when it answered (and nothing was forwarded yet). */
  status?: number;
  /** Attempts made so far, including the one that just failed (the first try is 1). */
  attempt: number;
  /** `RETRY_ATTEMPTS`: tries in all, the first one included. */
  maxAttempts: number;
  /**
   * Bytes of a non-replayable request body (the client's stream) were consumed by any attempt
   * so far. Sticky: once true it stays true for the rest of the request.
   */
  bodyStarted: boolean;
  /** Anything of the response (status line included) was written to the client. */
  responseStarted: boolean;
}

/**
 * Whether the attempt that just failed may be retried (on another upstream where the pool has
 * one). In order:
 * - never once the client has seen part of a response: it cannot be taken back;
 * - never past `maxAttempts` tries in all;
 * - never after a streamed body was consumed: there is nothing left to send (seed-spec D4);
 * - connect errors: on any method, since the upstream never saw the request;
 * - resets, stalls and 502/503/504: only when the request is idempotent.
 *
 * The caller still needs a retry-budget permit (`RetryBudget.tryAcquireRetry`) before retrying.
 */
export function shouldRetry(ctx: RetryContext): boolean {
  if (ctx.responseStarted || ctx.attempt >= ctx.maxAttempts || ctx.bodyStarted) {
    return false;
  }
  const code = ctx.error?.code;
  if (ctx.error) {
    if (code === undefined) {
      return false;
    }
    if (CONNECT_ERROR_CODES.has(code)) {
      return true;
    }
    // A stalled upstream may have received the request: like a reset, idempotent ones only.
    return (
      (RESET_ERROR_CODES.has(code) || code === STALLED_ERROR_CODE) &&
      isIdempotent(ctx.method, ctx.headers)
    );
  }
  return (
    ctx.status !== undefined &&
    RETRYABLE_STATUSES.has(ctx.status) &&
    isIdempotent(ctx.method, ctx.headers)
  );
}

export interface BackoffOptions {
  /** `RETRY_BACKOFF`: the ceiling of the first wait. @default 100 */
  baseMs?: number;
  /** Largest ceiling, however many attempts. @default 2000 */
  capMs?: number;
  /** Uniform source in [0, 1); injectable for tests. @default Math.random */
  random?: () => number;
}

/**
 * Exponential backoff with full jitter ("Exponential Backoff And Jitter", AWS Architecture Blog,
 * 2015): a uniformly random wait in `[0, min(capMs, baseMs · 2^(attempt-1)))`. Full jitter
 * spreads the retries of many clients that failed together, so they do not hit the recovering
 * upstream in synchronised waves.
 *
 * @param attempt attempts made so far (1 after the first try failed), as in {@link RetryContext}.
 * @returns whole milliseconds.
 */
export function backoffMs(attempt: number, options: BackoffOptions = {}): number {
  const { baseMs = 100, capMs = 2000, random = Math.random } = options;
  // 2 ** large is Infinity, which Math.min turns back into capMs.
  const ceiling = Math.min(capMs, baseMs * 2 ** (Math.max(1, attempt) - 1));
  return Math.floor(random() * Math.max(0, ceiling));
}

const DELAY_SECONDS = /^\d+$/;
const MONTHS = 'Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
// RFC 9110 §5.6.7: IMF-fixdate, plus the obsolete RFC 850 and asctime forms recipients must accept.
const IMF_FIXDATE = new RegExp(
  `^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\\d{2}) (${MONTHS}) (\\d{4}) ${TIME} GMT$`,
);
const RFC850_DATE = new RegExp(
  `^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\\d{2})-(${MONTHS})-(\\d{2}) ${TIME} GMT$`,
);
const ASCTIME_DATE = new RegExp(
  `^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (${MONTHS}) ([ \\d]\\d) ${TIME} (\\d{4})$`,
);

/**
 * Parses an HTTP-date into epoch milliseconds, or `undefined`. Written out rather than
 * `Date.parse`, which accepts nearly anything (`Date.parse('1')` is the year 2001).
 */
export function parseHttpDate(value: string, now: number = Date.now()): number | undefined {
  let day: string, month: string, year: number, h: string, m: string, s: string;
  let match = IMF_FIXDATE.exec(value);
  if (match) {
    [, day, month, , h, m, s] = match;
    year = Number(match[3]);
  } else if ((match = RFC850_DATE.exec(value))) {
    [, day, month, , h, m, s] = match;
    // A two-digit year more than 50 years ahead means the previous century (RFC 9110 §5.6.7).
    const thisYear = new Date(now).getUTCFullYear();
    year = Math.floor(thisYear / 100) * 100 + Number(match[3]);
    if (year > thisYear + 50) {
      year -= 100;
    }
  } else if ((match = ASCTIME_DATE.exec(value))) {
    [, month, day, h, m, s] = match;
    year = Number(match[6]);
  } else {
    return undefined;
  }
  const monthIndex = MONTHS.split('|').indexOf(month);
  const date = Number(day);
  const [hours, minutes, seconds] = [Number(h), Number(m), Number(s)];
  if (hours > 23 || minutes > 59 || seconds > 60) {
    return undefined;
  }
  const ms = Date.UTC(year, monthIndex, date, hours, minutes, seconds);
  // Date.UTC rolls 31 Feb over into March; such a date is garbage, not a date.
  return new Date(ms).getUTCDate() === date ? ms : undefined;
}

/**
 * How long an upstream asked us to wait (`Retry-After`, RFC 9110 §10.2.3): delay-seconds or an
 * HTTP-date, never more than `capMs` (`RETRY_AFTER_CAP`) so one upstream cannot park a client
 * request for an hour. A date in the past means 0.
 *
 * @returns milliseconds, or `undefined` when the header is absent or unparseable — then use
 * {@link backoffMs}. When both apply, wait the Retry-After value: the upstream knows best.
 */
export function retryAfterMs(
  headerValue: string | undefined,
  capMs: number,
  now: number = Date.now(),
): number | undefined {
  if (headerValue === undefined) {
    return undefined;
  }
  const value = headerValue.trim();
  const cap = Math.max(0, capMs);
  if (DELAY_SECONDS.test(value)) {
    return Math.min(cap, Number(value) * 1000);
  }
  const at = parseHttpDate(value, now);
  return at === undefined ? undefined : Math.min(cap, Math.max(0, at - now));
}
