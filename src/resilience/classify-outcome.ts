/** What one finished upstream exchange says about the upstream's health. */
export type ExchangeOutcome = 'success' | 'failure' | 'neutral';

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
 * 5xx statuses that describe the request rather than the server's health: 501 (method not
 * implemented) and 505 (HTTP version not supported) are answered the same way by a perfectly
 * healthy upstream every time, so tripping a breaker on them would only punish the upstream
 * for a client's request. Every other 5xx — 500, 502, 503, 504 and also 507, 508 or a CDN's
 * 52x — is a failure.
 */
function isFailureStatus(status: number): boolean {
  return status >= 500 && status <= 599 && status !== 501 && status !== 505;
}

/**
 * Judges an exchange for the circuit breaker and passive health checks:
 * - a failure status (5xx except 501/505) is a failure even if the client left afterwards — the
 *   upstream's verdict had already arrived;
 * - otherwise a client abort is neutral: a client that disconnects is not the upstream's failure
 *   (seed-spec D3, where two cancelled requests could trip the Go gateway's global breaker);
 * - errors are failures (connect errors, resets, timeouts, malformed responses, a reset in the
 *   middle of a 200 body), except the gateway's own and the client's ones listed in
 *   `NEUTRAL_ERROR_CODES`. An error without a code counts as a failure, as
 *   `classifyUpstreamError` answers it with 502;
 * - 1xx–4xx answers are successes: a 404 or 429 is the upstream working as designed;
 * - nothing at all (no status, no error) is neutral.
 */
export function classifyOutcome(result: ExchangeResult): ExchangeOutcome {
  const status = result.status ?? 0;
  if (status > 0 && isFailureStatus(status)) {
    return 'failure';
  }
  if (result.clientAborted) {
    return 'neutral';
  }
  if (result.error) {
    const code = result.error.code;
    return code !== undefined && NEUTRAL_ERROR_CODES.has(code) ? 'neutral' : 'failure';
  }
  return status > 0 ? 'success' : 'neutral';
}
