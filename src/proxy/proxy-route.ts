import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayErrorCode, sendGatewayError } from '../common/errors/gateway-error';
import { GatewayRejection } from '../common/errors/gateway-rejection';
import { resolveRequestId } from '../common/http/request-id';
import { EdgePipeline } from '../security/edge-pipeline.service';
import { ProxyService } from './proxy.service';
import type { UpstreamExchange } from './upstream-exchange';

/**
 * The proxy's catch-all: a route on Nest's Fastify instance for every path the gateway does not
 * answer itself (Fastify's router prefers the static routes, /health, /admin/…, whatever the
 * registration order). It opens the exchange (request id, client IP, route), runs the edge
 * checks and forwards; refusals and unexpected errors are answered through the exchange, so
 * they carry the same request id, security, CORS and RateLimit headers as proxied answers and
 * get exactly one access-log line.
 *
 * A Fastify route rather than a Nest controller with a guard and an exception filter: Nest's
 * router runs an execution context per request (guards awaited through promises, parameter
 * decorators, the filter wrapper) that the proxy uses none of. Paired on one core, the empty
 * Nest catch-all as a Fastify route cost ~0.9 of the same catch-all as a controller, and the
 * full pipeline ~0.9 of its controller build (docs/benchmarks.md). Everything else stays Nest:
 * the route's handler is this provider's, with its dependencies injected.
 */
@Injectable()
export class ProxyRoute implements OnModuleInit {
  private readonly logger = new Logger(ProxyRoute.name);

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly proxy: ProxyService,
    private readonly edge: EdgePipeline,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    // Every method Fastify knows by now: src/gateway.ts adds the ones beyond its defaults.
    fastify.all('/*', this.handle);
  }

  private readonly handle = (request: FastifyRequest, reply: FastifyReply): void => {
    // The proxy streams on the raw Node objects; Fastify must not send anything itself.
    reply.hijack();
    this.serve(request.raw, reply.raw);
  };

  /**
   * Opens, checks and forwards one request on the raw Node objects. Also the way in for a
   * request Fastify gave to one of the gateway's own routes but that belongs to an upstream (a
   * path such as `/docs` on a host a host route claims): same checks, answers and access line.
   */
  serve(req: IncomingMessage, res: ServerResponse): void {
    let exchange: UpstreamExchange;
    try {
      exchange = this.proxy.open(req, res);
      const admitted = this.edge.admit(exchange);
      if (admitted instanceof Promise) {
        // A check needed Redis or a JWKS refresh.
        admitted
          .then(() => this.proxy.forward(exchange))
          .catch((err: unknown) => this.fail(req, res, err));
        return;
      }
      this.proxy.forward(exchange);
    } catch (err) {
      this.fail(req, res, err);
    }
  }

  /** Answers a refusal (GatewayRejection) or, for anything unexpected, a logged generic 500. */
  private fail(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    if (!(err instanceof GatewayRejection)) {
      this.logger.error(
        `unhandled error on ${req.method} ${req.url}: ${String(err)}`,
        err instanceof Error ? err.stack : undefined,
      );
    }
    const exchange = this.proxy.exchangeOf(req);
    if (!exchange) {
      // `open` itself failed: nothing to answer through.
      const requestId = resolveRequestId(req.headers['x-request-id']);
      sendGatewayError(res, 500, 'Internal Server Error', 'Internal server error', requestId);
      return;
    }
    if (exchange.isClosed) {
      // Already answered (or the client left): an error now would corrupt nothing but the log.
      return;
    }
    if (err instanceof GatewayRejection) {
      exchange.reject(err);
    } else {
      exchange.error = err instanceof Error ? err.message : String(err);
      exchange.fail(GatewayErrorCode.Internal);
    }
  }
}
