import { GATEWAY_ERRORS, type GatewayErrorCode } from './gateway-error';

/**
 * A request the gateway refuses before proxying (limits, lists, auth, CORS, size). Thrown from
 * guards and rendered by the exception filter, or written directly on the upgrade path, so both
 * produce the same status, JSON body and headers.
 */
export class GatewayRejection extends Error {
  readonly statusCode: number;
  readonly error: string;

  constructor(
    readonly code: GatewayErrorCode | { statusCode: number; error: string },
    /** Client-facing message; the default for the code when omitted. */
    readonly publicMessage?: string,
    /** Flat `[name, value, …]` response headers (Retry-After, WWW-Authenticate, RateLimit…). */
    readonly headers: readonly string[] = [],
    /** Why, for the access log only; never sent to the client. */
    readonly reason?: string,
  ) {
    const spec = typeof code === 'string' ? GATEWAY_ERRORS[code] : undefined;
    super(publicMessage ?? spec?.message ?? 'Request refused');
    this.statusCode = spec ? spec.statusCode : (code as { statusCode: number }).statusCode;
    this.error = spec ? spec.error : (code as { error: string }).error;
  }
}
