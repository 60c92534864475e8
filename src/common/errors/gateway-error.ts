import type { ServerResponse } from 'node:http';

/**
 * Every error the gateway itself produces, in one table. Bodies say what the client can act on
 * and nothing about internals (upstream addresses and error texts go to the log only).
 */
export enum GatewayErrorCode {
  BadRequest = 'BAD_REQUEST',
  NoRoute = 'NO_ROUTE',
  NoUpstream = 'NO_HEALTHY_UPSTREAM',
  UpstreamUnreachable = 'UPSTREAM_UNREACHABLE',
  UpstreamTimeout = 'UPSTREAM_TIMEOUT',
  UpstreamBadResponse = 'UPSTREAM_BAD_RESPONSE',
  Overloaded = 'GATEWAY_OVERLOADED',
  ShuttingDown = 'SHUTTING_DOWN',
  Internal = 'INTERNAL',
}

interface ErrorSpec {
  statusCode: number;
  error: string;
  message: string;
}

export const GATEWAY_ERRORS: Readonly<Record<GatewayErrorCode, ErrorSpec>> = {
  [GatewayErrorCode.BadRequest]: { statusCode: 400, error: 'Bad Request', message: 'Bad request' },
  [GatewayErrorCode.NoRoute]: {
    statusCode: 404,
    error: 'Not Found',
    message: 'No route matches this host and path',
  },
  [GatewayErrorCode.NoUpstream]: {
    statusCode: 503,
    error: 'Service Unavailable',
    message: 'No healthy upstream is available for this route',
  },
  [GatewayErrorCode.UpstreamUnreachable]: {
    statusCode: 502,
    error: 'Bad Gateway',
    message: 'The upstream could not be reached',
  },
  [GatewayErrorCode.UpstreamTimeout]: {
    statusCode: 504,
    error: 'Gateway Timeout',
    message: 'The upstream did not answer in time',
  },
  [GatewayErrorCode.UpstreamBadResponse]: {
    statusCode: 502,
    error: 'Bad Gateway',
    message: 'The upstream sent an invalid response',
  },
  [GatewayErrorCode.Overloaded]: {
    statusCode: 503,
    error: 'Service Unavailable',
    message: 'The gateway is overloaded; retry later',
  },
  [GatewayErrorCode.ShuttingDown]: {
    statusCode: 503,
    error: 'Service Unavailable',
    message: 'The gateway is shutting down; retry on another instance',
  },
  [GatewayErrorCode.Internal]: {
    statusCode: 500,
    error: 'Internal Server Error',
    message: 'Internal server error',
  },
};

/**
 * Maps an undici / socket error to the client-facing code. One place, so 502 vs 504 is decided
 * consistently (reply-from and http-proxy-middleware disagree on ECONNRESET; we say 502 because
 * the upstream did answer, badly).
 */
export function classifyUpstreamError(err: unknown): GatewayErrorCode {
  const code = (err as { code?: string } | null)?.code;
  switch (code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return GatewayErrorCode.UpstreamTimeout;
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_HEADER_TOKEN':
    case 'HPE_INVALID_STATUS':
    case 'HPE_INVALID_VERSION':
    case 'HPE_INVALID_CHUNK_SIZE':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
    case 'HPE_HEADER_OVERFLOW':
    case 'UND_ERR_INFO':
      return GatewayErrorCode.UpstreamBadResponse;
    case undefined:
      return GatewayErrorCode.UpstreamUnreachable;
    default:
      if (code.startsWith('HPE_')) {
        return GatewayErrorCode.UpstreamBadResponse;
      }
      return GatewayErrorCode.UpstreamUnreachable;
  }
}

/** The one error body shape: `{statusCode, error, message, requestId}`. */
export function jsonError(
  statusCode: number,
  error: string,
  message: string,
  requestId: string,
): string {
  return JSON.stringify({ statusCode, error, message, requestId });
}

export function errorBody(code: GatewayErrorCode, requestId: string, message?: string): string {
  const spec = GATEWAY_ERRORS[code];
  return jsonError(spec.statusCode, spec.error, message ?? spec.message, requestId);
}

/**
 * Writes the JSON error if nothing was sent yet; otherwise the only honest signal left is to cut
 * the connection, so a client never mistakes a truncated body for a complete one.
 */
export function sendGatewayError(
  res: ServerResponse,
  code: GatewayErrorCode,
  requestId: string,
  extraHeaders?: Record<string, string>,
  message?: string,
): void {
  if (res.headersSent || res.writableEnded) {
    res.destroy();
    return;
  }
  const body = errorBody(code, requestId, message);
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-request-id': requestId,
    'cache-control': 'no-store',
    ...extraHeaders,
  };
  res.writeHead(GATEWAY_ERRORS[code].statusCode, headers);
  res.end(body);
}
