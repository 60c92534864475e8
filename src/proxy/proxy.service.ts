import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { Injectable } from '@nestjs/common';
import { GatewayErrorCode } from '../common/errors/gateway-error';
import { resolveRequestId } from '../common/http/request-id';
import { isReservedPath } from '../common/http/reserved-paths';
import { InjectGatewayConfig } from '../config/gateway.config';
import type { GatewayConfig } from '../config/gateway-config.types';
import { AccessLogService } from '../observability/access-log.service';
import { joinPaths, mergeQuery } from '../routing/path-rewriter';
import { canonicalizePath } from '../routing/request-path';
import { RouteTableService } from '../routing/route-table.service';
import { ClientIpResolver, normalizeIp } from '../security/client-ip';
import { buildUpstreamHeaders } from './forward-headers';
import { UpstreamExchange } from './upstream-exchange';

/** Splits `origin-form` or `absolute-form` request targets into path and query. */
function splitTarget(url: string): { path: string; query: string } {
  let target = url;
  if (target.charCodeAt(0) !== 47 /* / */ && /^https?:\/\//i.test(target)) {
    const slash = target.indexOf('/', target.indexOf('//') + 2);
    target = slash === -1 ? '/' : target.slice(slash);
  }
  const q = target.indexOf('?');
  return q === -1
    ? { path: target, query: '' }
    : { path: target.slice(0, q), query: target.slice(q + 1) };
}

/**
 * The proxy hot path: canonical path → route → upstream → forward. Everything it consults was
 * compiled at boot (route table, pools, IP resolver); per request it only looks things up.
 */
@Injectable()
export class ProxyService {
  private readonly ipResolver: ClientIpResolver;
  private readonly maxInFlight: number;
  private inFlight = 0;

  constructor(
    @InjectGatewayConfig() config: GatewayConfig,
    private readonly routes: RouteTableService,
    private readonly accessLog: AccessLogService,
  ) {
    this.ipResolver = new ClientIpResolver(config.proxy.trustedProxies);
    this.maxInFlight = config.proxy.maxInFlight;
  }

  /** Proxied requests currently in progress. */
  get activeRequests(): number {
    return this.inFlight;
  }

  /** Resolves the client IP with the one rule every feature uses. */
  clientIpOf(req: IncomingMessage): { peer: string; peerTrusted: boolean; clientIp: string } {
    const peer = normalizeIp(req.socket.remoteAddress);
    const peerTrusted = this.ipResolver.isTrusted(peer);
    const clientIp = peerTrusted
      ? this.ipResolver.resolve(peer, req.headers['x-forwarded-for'])
      : peer;
    return { peer, peerTrusted, clientIp };
  }

  private readonly release = (): void => {
    this.inFlight--;
  };

  handle(req: IncomingMessage, res: ServerResponse): void {
    const startedAt = performance.now();
    const requestId = resolveRequestId(req.headers['x-request-id']);
    const { peer, peerTrusted, clientIp } = this.clientIpOf(req);
    const { path: rawPath, query } = splitTarget(req.url ?? '/');
    const exchange = new UpstreamExchange(
      req,
      res,
      requestId,
      clientIp,
      rawPath,
      startedAt,
      this.accessLog,
    );

    if (this.inFlight >= this.maxInFlight) {
      // Shed load before doing any work for it; a fast 503 beats a slow timeout for everyone.
      exchange.fail(GatewayErrorCode.Overloaded, { 'retry-after': '1' });
      return;
    }
    this.inFlight++;
    res.once('close', this.release);

    const canonical = canonicalizePath(rawPath);
    if (!canonical.ok) {
      exchange.fail(
        GatewayErrorCode.BadRequest,
        undefined,
        `Invalid request path: ${canonical.reason}`,
      );
      return;
    }
    const path = canonical.path;
    if (isReservedPath(path)) {
      exchange.fail(GatewayErrorCode.NoRoute, undefined, 'This gateway path is not enabled');
      return;
    }
    const match = this.routes.match(req.headers.host, path);
    if (!match) {
      exchange.fail(GatewayErrorCode.NoRoute);
      return;
    }
    const route = match.value;
    exchange.route = route;
    const upstream = route.group.pick(clientIp);
    if (!upstream) {
      exchange.fail(GatewayErrorCode.NoUpstream, { 'retry-after': '5' });
      return;
    }
    exchange.upstream = upstream;
    upstream.inFlight++;

    const forwardedPath = joinPaths(upstream.basePath, route.stripPrefix ? match.rest : path);
    const mergedQuery = mergeQuery(upstream.baseQuery, query);
    const headers = buildUpstreamHeaders(req.headers, {
      host: route.preserveHost && req.headers.host ? req.headers.host : upstream.hostHeader,
      peer,
      peerTrusted,
      clientIp,
      proto: (req.socket as TLSSocket).encrypted ? 'https' : 'http',
      requestId,
    });
    const hasBody =
      req.headers['transfer-encoding'] !== undefined ||
      (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');

    upstream.dispatcher.dispatch(
      {
        origin: upstream.origin,
        path: mergedQuery === '' ? forwardedPath : `${forwardedPath}?${mergedQuery}`,
        method: req.method as 'GET',
        headers,
        body: hasBody ? req : null,
        headersTimeout: route.timeoutMs,
        bodyTimeout: route.timeoutMs,
      },
      exchange,
    );
  }
}
