import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Every error the gateway itself produces, in one table. Bodies say what the client can act on
 * and nothing about internals (upstream addresses and error texts go to the log only).
 */
export enum GatewayErrorCode {
  BadRequest = 'BAD_REQUEST',
  Unauthorized = 'UNAUTHORIZED',
  Forbidden = 'FORBIDDEN',
  CorsRejected = 'CORS_REJECTED',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  TooManyRequests = 'TOO_MANY_REQUESTS',
  ClientBlocked = 'CLIENT_BLOCKED',
  HeadersTooLarge = 'HEADERS_TOO_LARGE',
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
  [GatewayErrorCode.Unauthorized]: {
    statusCode: 401,
    error: 'Unauthorized',
    message: 'Authentication required',
  },
  [GatewayErrorCode.Forbidden]: { statusCode: 403, error: 'Forbidden', message: 'Access denied' },
  [GatewayErrorCode.CorsRejected]: {
    statusCode: 403,
    error: 'Forbidden',
    message: 'Cross-origin request not allowed',
  },
  [GatewayErrorCode.PayloadTooLarge]: {
    statusCode: 413,
    error: 'Payload Too Large',
    message: 'Request body exceeds the size limit',
  },
  [GatewayErrorCode.TooManyRequests]: {
    statusCode: 429,
    error: 'Too Many Requests',
    message: 'Rate limit exceeded',
  },
  [GatewayErrorCode.ClientBlocked]: {
    statusCode: 429,
    error: 'Too Many Requests',
    message: 'Too many requests; this client is temporarily blocked',
  },
  [GatewayErrorCode.HeadersTooLarge]: {
    statusCode: 431,
    error: 'Request Header Fields Too Large',
    message: 'Too many request header fields',
  },
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
 *
 * `headers` is a flat `[name, value, …]` list (security headers, Retry-After, RateLimit…).
 */
export function sendGatewayError(
  res: ServerResponse,
  statusCode: number,
  error: string,
  message: string,
  requestId: string,
  headers: readonly string[] = [],
): void {
  if (res.headersSent || res.writableEnded) {
    res.destroy();
    return;
  }
  const body = jsonError(statusCode, error, message, requestId);
  // An explicit reason phrase: one left over from a failed writeHead must not be reused.
  res.writeHead(statusCode, STATUS_CODES[statusCode] ?? error, [
    'content-type',
    'application/json; charset=utf-8',
    'content-length',
    String(Buffer.byteLength(body)),
    'x-request-id',
    requestId,
    'cache-control',
    'no-store',
    ...headers,
  ]);
  res.end(body);
}

/**
 * The same JSON error written as a raw HTTP/1.1 response on a socket that has no
 * ServerResponse (a request Node's parser rejected, an Upgrade that is refused), then closed.
 * `headers` is a flat `[name, value, …]` list (security headers, Retry-After…).
 */
export function writeRawError(
  socket: Duplex,
  statusCode: number,
  error: string,
  message: string,
  requestId: string,
  headers: readonly string[] = [],
): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const body = jsonError(statusCode, error, message, requestId);
  let lines = '';
  for (let i = 0; i < headers.length; i += 2) {
    lines += `${headers[i]}: ${headers[i + 1]}\r\n`;
  }
  socket.end(
    `HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode] ?? error}\r\n` +
      'content-type: application/json; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      'connection: close\r\n' +
      'cache-control: no-store\r\n' +
      lines +
      `x-request-id: ${requestId}\r\n\r\n` +
      body,
  );
}
