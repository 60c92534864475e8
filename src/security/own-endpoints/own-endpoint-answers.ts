import type { ServerResponse } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayErrorCode, jsonError, sendGatewayError } from '../../common/errors/gateway-error';
import { GatewayRejection } from '../../common/errors/gateway-rejection';
import { resolveRequestId } from '../../common/http/request-id';
import type { OwnEndpointGate } from './own-endpoint-gate';

/**
 * Writes a refusal through Fastify in the gateway's JSON error shape, keeping the headers already
 * set on the reply (the security headers of own routes).
 */
export function replyWithRejection(
  reply: FastifyReply,
  rejection: GatewayRejection,
  clientRequestId: string | string[] | undefined,
): void {
  const requestId = resolveRequestId(clientRequestId);
  const headers: Record<string, string> = {};
  for (let i = 0; i < rejection.headers.length; i += 2) {
    headers[rejection.headers[i]] = rejection.headers[i + 1];
  }
  void reply
    .code(rejection.statusCode)
    .headers({ ...headers, 'x-request-id': requestId, 'cache-control': 'no-store' })
    .type('application/json; charset=utf-8')
    .send(jsonError(rejection.statusCode, rejection.error, rejection.message, requestId));
}

/** The same refusal on a raw Node response (the admin listener's own answers). */
export function writeRejection(
  res: ServerResponse,
  rejection: GatewayRejection,
  clientRequestId: string | string[] | undefined,
  securityHeaders: readonly string[],
): void {
  sendGatewayError(
    res,
    rejection.statusCode,
    rejection.error,
    rejection.message,
    resolveRequestId(clientRequestId),
    [...securityHeaders, ...rejection.headers],
  );
}

/**
 * Fastify's `frameworkErrors` handler: a request whose URL its router cannot decode (`GET /%`,
 * `/api/%ff`) is answered before any route or hook runs, so it gets the deny list and flood
 * counting here, then a 400 in the gateway's shape with the security headers.
 */
export function frameworkErrorHandler(
  gate: OwnEndpointGate,
  securityHeaders: readonly string[],
): (error: FastifyError, req: FastifyRequest, reply: FastifyReply) => void {
  const headers: Record<string, string> = {};
  for (let i = 0; i < securityHeaders.length; i += 2) {
    headers[securityHeaders[i]] = securityHeaders[i + 1];
  }
  return (error, req, reply) => {
    const rejection = gate.screen(req.raw) ?? frameworkRejection(error);
    void reply.headers(headers);
    replyWithRejection(reply, rejection, req.raw.headers['x-request-id']);
  };
}

/** What Fastify's router refused, said in the gateway's words. */
function frameworkRejection(error: FastifyError): GatewayRejection {
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      return new GatewayRejection(
        GatewayErrorCode.BadRequest,
        'Invalid request path: malformed percent-encoding',
      );
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new GatewayRejection(
        { statusCode: 414, error: 'URI Too Long' },
        'Request target too long',
      );
    default:
      return new GatewayRejection(GatewayErrorCode.Internal);
  }
}
