import { request as httpRequest, STATUS_CODES, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import {
  classifyUpstreamError,
  GatewayErrorCode,
  writeRawError,
} from '../common/errors/gateway-error';
import { GatewayRejection } from '../common/errors/gateway-rejection';
import { EdgePipeline } from '../security/edge-pipeline.service';
import type { EdgeRequest } from '../security/edge-request';
import { InjectGatewayConfig } from '../config/gateway.config';
import type { GatewayConfig } from '../config/gateway-config.types';
import { AccessLogService } from '../observability/access-log.service';
import { RequestMetricsService } from '../observability/request-metrics.service';
import { clientKey } from '../security/client-ip';
import { joinPaths, mergeQuery } from '../routing/path-rewriter';
import { ProxyService } from './proxy.service';
import type { ResolvedRequest } from './resolved-request';

/**
 * Proxies HTTP/1.1 Upgrade requests (WebSocket) on the same routes as ordinary requests. After
 * the upstream answers 101 the gateway only splices bytes; it does not parse frames.
 *
 * An open WebSocket holds a MAX_IN_FLIGHT slot for as long as it lives, so two bounds keep a
 * few clients from holding them all: `WEBSOCKET_MAX_PER_IP` open sockets per client (its IPv6
 * network per `RATE_LIMIT_IPV6_PREFIX`; 429 beyond), and `WEBSOCKET_IDLE_TIMEOUT` of silence in
 * both directions, after which the socket is closed (Envoy's stream idle timeout does the same;
 * WebSocket pings count as traffic).
 */
@Injectable()
export class UpgradeProxyService implements OnApplicationShutdown {
  private readonly open = new Set<Duplex>();
  /** Open (and opening) WebSockets per client key. */
  private readonly perClient = new Map<string, number>();
  private readonly maxPerClient: number;
  private readonly idleMs: number;
  private readonly ipv6Prefix: number;

  constructor(
    @InjectGatewayConfig() private readonly config: GatewayConfig,
    private readonly proxy: ProxyService,
    private readonly edge: EdgePipeline,
    private readonly accessLog: AccessLogService,
    private readonly metrics: RequestMetricsService,
  ) {
    this.maxPerClient = config.proxy.websocketMaxPerIp;
    this.idleMs = config.proxy.websocketIdleTimeoutMs;
    this.ipv6Prefix = config.security.rateLimitIpv6Prefix;
  }

  /** Open WebSockets of one client key (its IP, or its IPv6 network). */
  openFor(clientKeyOrIp: string): number {
    return this.perClient.get(clientKey(clientKeyOrIp, this.ipv6Prefix)) ?? 0;
  }

  handle(req: IncomingMessage, client: Duplex, head: Buffer): void {
    const startedAt = performance.now();
    client.on('error', () => client.destroy());
    const r = this.proxy.resolve(req);
    const { requestId, clientIp, rawPath } = r;
    // Filled in as the request progresses; read by `log` whenever the exchange ends.
    const edge: EdgeRequest & { upstream?: string } = {
      req,
      clientIp,
      path: r.path,
      route: r.match?.value,
      routeRejection: r.routeRejection,
      principalId: undefined,
      principalKey: undefined,
      responseHeaders: undefined,
      dropUpstreamCors: false,
      upstreamHeaders: undefined,
      error: undefined,
    };
    let status = 0;
    let bytesIn = head.length;
    let bytesOut = 0;
    let logged = false;
    const log = (error?: string): void => {
      if (logged) {
        return;
      }
      logged = true;
      this.accessLog.log({
        requestId,
        method: req.method,
        host: req.headers.host,
        path: rawPath,
        query: r.query,
        route: edge.route?.name,
        upstream: edge.upstream,
        status,
        durationMs: Math.round((performance.now() - startedAt) * 1000) / 1000,
        attempts: edge.upstream === undefined ? 0 : 1,
        bytesIn,
        bytesOut,
        clientIp,
        userAgent: req.headers['user-agent'],
        referer: req.headers.referer,
        principal: edge.principalId,
        error: error ?? edge.error,
      });
      this.metrics.upgradeFinished(
        edge.route,
        req.method,
        status,
        performance.now() - startedAt,
        bytesIn,
        bytesOut,
      );
    };
    const refuse = (rejection: GatewayRejection): void => {
      status = rejection.statusCode;
      writeRawError(client, rejection.statusCode, rejection.error, rejection.message, requestId, [
        ...this.securityHeaders(r.tls),
        ...rejection.headers,
      ]);
      log(rejection.reason);
    };

    let admitted: void | Promise<void>;
    try {
      if (req.method !== 'GET') {
        throw new GatewayRejection(GatewayErrorCode.BadRequest, 'Upgrade requires GET');
      }
      // WebSocket only: relaying other upgrades (h2c above all) would let a client speak
      // HTTP/2 straight to the upstream, past routing, auth and limits ("h2c smuggling").
      if (
        req.headers.upgrade?.toLowerCase() !== 'websocket' ||
        req.headers['sec-websocket-key'] === undefined ||
        req.headers['sec-websocket-version'] === undefined
      ) {
        throw new GatewayRejection(
          GatewayErrorCode.BadRequest,
          'Only WebSocket upgrades are supported',
        );
      }
      this.holdForClient(clientIp, client);
      this.proxy.acquireSlot();
      client.once('close', () => this.proxy.releaseSlot());
      admitted = this.edge.admit(edge);
    } catch (err) {
      refuse(asRejection(err));
      return;
    }
    const proceed = (): void => {
      if (client.destroyed) {
        log('client closed the connection');
        return;
      }
      this.connect(req, client, head, r, edge, {
        setStatus: (s) => (status = s),
        addIn: (n) => (bytesIn += n),
        addOut: (n) => (bytesOut += n),
        log,
        refuse,
      });
    };
    if (admitted instanceof Promise) {
      admitted.then(proceed, (err: unknown) => refuse(asRejection(err)));
    } else {
      proceed();
    }
  }

  /** Counts the socket against its client's cap until it closes; throws the 429 when full. */
  private holdForClient(clientIp: string, client: Duplex): void {
    if (this.maxPerClient === 0) {
      return;
    }
    const key = clientKey(clientIp, this.ipv6Prefix);
    const held = this.perClient.get(key) ?? 0;
    if (held >= this.maxPerClient) {
      throw new GatewayRejection(
        GatewayErrorCode.TooManyRequests,
        'Too many open WebSocket connections from this client',
        ['retry-after', '1'],
        'websocket cap per client reached',
      );
    }
    this.perClient.set(key, held + 1);
    client.once('close', () => {
      const left = (this.perClient.get(key) ?? 1) - 1;
      if (left > 0) {
        this.perClient.set(key, left);
      } else {
        this.perClient.delete(key);
      }
    });
  }

  private securityHeaders(tls: boolean): readonly string[] {
    const set = this.proxy.responseHeaderPolicy.security;
    return tls ? set.tls : set.plain;
  }

  private connect(
    req: IncomingMessage,
    client: Duplex,
    head: Buffer,
    r: ResolvedRequest,
    edge: EdgeRequest & { upstream?: string },
    track: {
      setStatus(s: number): void;
      addIn(n: number): void;
      addOut(n: number): void;
      log(error?: string): void;
      refuse(rejection: GatewayRejection): void;
    },
  ): void {
    const { requestId } = r;
    const match = r.match!;
    const route = match.value;
    const upstream = route.group.pick(r.clientIp, route.name);
    if (!upstream) {
      track.refuse(
        new GatewayRejection(GatewayErrorCode.NoUpstream, undefined, ['retry-after', '5']),
      );
      return;
    }
    edge.upstream = upstream.label;
    const headers = this.proxy.upstreamHeadersFor(req, r, route, upstream, edge.upstreamHeaders);
    headers.connection = 'Upgrade';
    headers.upgrade = 'websocket';
    const target = new URL(upstream.origin);
    const mergedQuery = mergeQuery(upstream.baseQuery, r.query);
    const forwardedPath = joinPaths(upstream.basePath, route.stripPrefix ? match.rest : r.path);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    upstream.inFlight++;
    let released = false;
    const release = (): void => {
      if (!released) {
        released = true;
        upstream.inFlight--;
      }
    };
    const upstreamReq = send({
      host: target.hostname,
      port: target.port,
      method: 'GET',
      path: mergedQuery === '' ? forwardedPath : `${forwardedPath}?${mergedQuery}`,
      headers,
      agent: false,
    });
    const timedOut = (what: string, code: string) => () =>
      upstreamReq.destroy(Object.assign(new Error(`${what} timed out`), { code }));
    // Connecting is bounded by UPSTREAM_CONNECT_TIMEOUT, the handshake by the route timeout;
    // once upgraded, an idle WebSocket is normal and nothing times it out here.
    const connectTimer = setTimeout(
      timedOut('connect', 'UND_ERR_CONNECT_TIMEOUT'),
      this.config.proxy.connectTimeoutMs,
    );
    const handshakeTimer = setTimeout(timedOut('upgrade', 'ETIMEDOUT'), route.timeoutMs);
    upstreamReq.on('socket', (socket: Socket) => {
      if (socket.connecting) {
        socket.once('connect', () => clearTimeout(connectTimer));
      } else {
        clearTimeout(connectTimer);
      }
    });
    const settled = (): void => {
      clearTimeout(connectTimer);
      clearTimeout(handshakeTimer);
    };
    upstreamReq.once('close', settled);
    const onClientGone = (): void => {
      upstreamReq.destroy();
    };
    client.once('close', onClientGone);
    upstreamReq.on('error', (err: Error & { code?: string }) => {
      release();
      client.off('close', onClientGone);
      if (client.destroyed) {
        track.log('client closed the connection');
        return;
      }
      const rejection = new GatewayRejection(classifyUpstreamError(err));
      track.refuse(Object.assign(rejection, { reason: err.code ?? err.message }));
    });
    upstreamReq.on('response', (res) => {
      // The upstream declined the upgrade (401, 404, …): relay its answer as-is and close.
      const status = res.statusCode ?? 502;
      track.setStatus(status);
      client.off('close', onClientGone);
      client.write(statusLine(status, res.statusMessage) + headerBlock(res.rawHeaders, requestId));
      res.on('data', (chunk: Buffer) => {
        track.addOut(chunk.length);
        client.write(chunk);
      });
      res.on('end', () => {
        release();
        client.end();
        track.log();
      });
      res.on('error', () => {
        release();
        client.destroy();
        track.log('upstream response error');
      });
    });
    upstreamReq.on('upgrade', (res, upstreamSocket: Socket, upstreamHead: Buffer) => {
      track.setStatus(101);
      client.off('close', onClientGone);
      // The upstream socket carries both directions' bytes: silence on it is silence on both.
      upstreamSocket.setTimeout(this.idleMs);
      this.open.add(client);
      client.write(
        statusLine(101, res.statusMessage) + headerBlock(res.rawHeaders, requestId, true),
      );
      if (upstreamHead.length > 0) {
        track.addOut(upstreamHead.length);
        client.write(upstreamHead);
      }
      if (head.length > 0) {
        upstreamSocket.write(head);
      }
      upstreamSocket.on('data', (c: Buffer) => track.addOut(c.length));
      client.on('data', (c: Buffer) => track.addIn(c.length));
      upstreamSocket.pipe(client);
      client.pipe(upstreamSocket);
      let idle = false;
      const close = (): void => {
        this.open.delete(client);
        release();
        client.destroy();
        upstreamSocket.destroy();
        track.log(idle ? 'websocket idle timeout' : undefined);
      };
      upstreamSocket.on('timeout', () => {
        idle = true;
        close();
      });
      upstreamSocket.on('error', close);
      upstreamSocket.on('close', close);
      client.on('error', close);
      client.on('close', close);
    });
    upstreamReq.end();
  }

  onApplicationShutdown(): void {
    for (const socket of this.open) {
      socket.destroy();
    }
    this.open.clear();
  }
}

function statusLine(status: number, message: string | undefined): string {
  return `HTTP/1.1 ${status} ${message || STATUS_CODES[status] || ''}\r\n`;
}

const UPGRADE_HOP = new Set([
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
]);

/** Response head for the client; `connection`/`upgrade` survive only on a 101. */
function headerBlock(raw: string[], requestId: string, upgraded = false): string {
  let out = '';
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i].toLowerCase();
    if (UPGRADE_HOP.has(lower) || lower === 'x-request-id') {
      continue;
    }
    if (!upgraded && (lower === 'connection' || lower === 'upgrade')) {
      continue;
    }
    out += `${raw[i]}: ${raw[i + 1]}\r\n`;
  }
  if (!upgraded) {
    out += 'connection: close\r\n';
  }
  return out + `x-request-id: ${requestId}\r\n\r\n`;
}

function asRejection(err: unknown): GatewayRejection {
  return err instanceof GatewayRejection
    ? err
    : Object.assign(new GatewayRejection(GatewayErrorCode.Internal), { reason: String(err) });
}
