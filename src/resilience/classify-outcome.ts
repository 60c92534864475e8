/**
 * What one finished upstream attempt says about the upstream's health. The circuit breaker,
 * passive ejection and `upstream_errors_total{kind}` all read this one verdict:
 * - `success`: the upstream answered with a status that is not a failure status (500 included by
 *   default: that is the application's answer, passed through and counted by status only);
 * - `failed-status`: it answered with one of its failure statuses (502, 503, 504 by default);
 * - `failed-exchange`: the exchange itself failed (connect error or timeout, reset, header or
 *   body timeout, malformed response, a stalled upstream);
 * - `neutral`: nothing was learned (the client went away, the gateway itself aborted).
 */
export type ExchangeOutcome = 'success' | 'neutral' | 'failed-status' | 'failed-exchange';

/** Statuses that count against an upstream (`CIRCUIT_BREAKER_FAILURE_STATUSES`, a route's or an upstream's `failure_statuses`). */
export type FailureStatuses = ReadonlySet<number>;

/**
 * The default failure statuses: the ones a proxy or the server itself uses to say "I could not
 * serve this" (bad gateway, unavailable, gateway timeout), as Envoy's `gateway_error` and
 * nginx's `max_fails` count them. 500 is deliberately absent: an application error says nothing
 * about whether the server is healthy, and opening a breaker on it turns one bad endpoint into
 * an outage of every endpoint.
 */
export const DEFAULT_FAILURE_STATUSES: readonly number[] = [502, 503, 504];

export function isFailure(outcome: ExchangeOutcome): boolean {
  return outcome === 'failed-status' || outcome === 'failed-exchange';
}

export interface ExchangeResult {
  /** The transport error, if the exchange failed (undici / Node `code`). */
  error?: { code?: string };
  /** Final status received from the upstream; `undefined` or `0` when no response head arrived. */
  status?: number;
  /** The client went away before the exchange completed. */
  clientAborted: boolean;
}

/**
 * Errors raised by the gateway itself or caused by the client, not by the upstream:
 * - `UND_ERR_ABORTED`: we aborted the dispatch (client gone, body over limit);
 * - `GW_BODY_TOO_LARGE`: our own abort when a streamed body passed `MAX_BODY_SIZE`;
 * - `UND_ERR_REQ_CONTENT_LENGTH_MISMATCH`: the client sent fewer/more bytes than it announced.
 */
const NEUTRAL_ERROR_CODES: ReadonlySet<string> = new Set([
  'UND_ERR_ABORTED',
  'GW_BODY_TOO_LARGE',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
]);

/**
 * Judges an attempt:
 * - a failure status is a failure even if the client left afterwards: the upstream's verdict had
 *   already arrived;
 * - otherwise a client abort is neutral: a client that disconnects is not the upstream's failure
 *   (seed-spec D3, where two cancelled requests could trip the Go gateway's global breaker);
 * - errors are exchange failures (connect errors, resets, timeouts, malformed responses, a reset
 *   in the middle of a 200 body), except the gateway's own and the client's ones listed in
 *   `NEUTRAL_ERROR_CODES`. An error without a code counts as a failure, as
 *   `classifyUpstreamError` answers it with 502;
 * - any other status is a success: a 404, a 429 or a 500 is the upstream working as written;
 * - nothing at all (no status, no error) is neutral.
 */
export function classifyOutcome(
  result: ExchangeResult,
  failureStatuses: FailureStatuses,
): ExchangeOutcome {
  const status = result.status ?? 0;
  if (status > 0 && failureStatuses.has(status)) {
    return 'failed-status';
  }
  if (result.clientAborted) {
    return 'neutral';
  }
  if (result.error) {
    const code = result.error.code;
    return code !== undefined && NEUTRAL_ERROR_CODES.has(code) ? 'neutral' : 'failed-exchange';
  }
  return status > 0 ? 'success' : 'neutral';
}

/** Error code of an attempt the stall detector gave up on (see `StallDetector`). */
export const STALLED_ERROR_CODE = 'GW_UPSTREAM_STALLED';

/**
 * The `upstream_errors_total` kind of a failed attempt: `5xx` / `4xx` for a failure status,
 * otherwise the transport cause (`connect`, `connect_timeout`, `timeout`, `reset`,
 * `bad_response`, `stalled`, `other`).
 */
export function failureKind(
  outcome: ExchangeOutcome,
  status: number,
  error: string | undefined,
): string {
  if (outcome === 'failed-status') {
    return status >= 500 ? '5xx' : '4xx';
  }
  switch (error) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
    case 'EADDRNOTAVAIL':
      return 'connect';
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect_timeout';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'ETIMEDOUT':
      return 'timeout';
    case STALLED_ERROR_CODE:
      return 'stalled';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return 'reset';
    case 'UND_ERR_INFO':
      return 'bad_response';
    case undefined:
      return 'other';
    default:
      return error.startsWith('HPE_') ||
        error.startsWith('UND_ERR_RES') ||
        error.startsWith('invalid upstream')
        ? 'bad_response'
        : 'other';
  }
}

/**
 * The failure statuses of one upstream of one route: the default list plus what the route and
 * the upstream add. Built once per compiled route.
 */
export function failureStatusSet(...lists: (readonly number[] | undefined)[]): FailureStatuses {
  const set = new Set<number>();
  for (const list of lists) {
    for (const status of list ?? []) {
      set.add(status);
    }
  }
  return set;
}
