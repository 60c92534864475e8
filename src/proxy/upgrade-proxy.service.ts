import { request as httpRequest, STATUS_CODES, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import {
  classifyUpstreamError,
  errorBody,
  GATEWAY_ERRORS,
  GatewayErrorCode,
} from '../common/errors/gateway-error';
import { resolveRequestId } from '../common/http/request-id';
import { isReservedPath } from '../common/http/reserved-paths';
import { InjectGatewayConfig } from '../config/gateway.config';
import type { GatewayConfig } from '../config/gateway-config.types';
import { AccessLogService } from '../observability/access-log.service';
import { joinPaths, mergeQuery } from '../routing/path-rewriter';
import { canonicalizePath } from '../routing/request-path';
import { RouteTableService } from '../routing/route-table.service';
import { buildUpstreamHeaders } from './forward-headers';
import { ProxyService } from './proxy.service';

/**
 * Proxies HTTP/1.1 Upgrade requests (WebSocket) on the same routes as ordinary requests. After
 * the upstream answers 101 the gateway only splices bytes; it does not parse frames.
 */
@Injectable()
export class UpgradeProxyService implements OnApplicationShutdown {
  private readonly open = new Set<Duplex>();

  constructor(
    @InjectGatewayConfig() private readonly config: GatewayConfig,
    private readonly routes: RouteTableService,
    private readonly proxy: ProxyService,
    private readonly accessLog: AccessLogService,
  ) {}

  get openConnections(): number {
    return this.open.size;
  }

  handle(req: IncomingMessage, client: Duplex, head: Buffer): void {
    const startedAt = performance.now();
    const requestId = resolveRequestId(req.headers['x-request-id']);
    const { peer, peerTrusted, clientIp } = this.proxy.clientIpOf(req);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? '' : url.slice(q + 1);
    // Filled in as the request progresses; read by `log` whenever the exchange ends.
    const seen: { route?: string; upstream?: string } = {};
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
        route: seen.route,
        upstream: seen.upstream,
        status,
        durationMs: Math.round((performance.now() - startedAt) * 1000) / 1000,
        bytesIn,
        bytesOut,
        clientIp,
        error,
      });
    };
    const reject = (code: GatewayErrorCode, message?: string, error?: string): void => {
      status = GATEWAY_ERRORS[code].statusCode;
      writeRawError(client, code, requestId, message);
      log(error);
    };
    client.on('error', () => client.destroy());

    const canonical = canonicalizePath(rawPath);
    if (!canonical.ok || req.method !== 'GET') {
      reject(GatewayErrorCode.BadRequest, canonical.ok ? 'Upgrade requires GET' : canonical.reason);
      return;
    }
    const path = canonical.path;
    const match = isReservedPath(path) ? undefined : this.routes.match(req.headers.host, path);
    if (!match) {
      reject(GatewayErrorCode.NoRoute);
      return;
    }
    const route = match.value;
    seen.route = route.name;
    const upstream = route.group.pick(clientIp);
    if (!upstream) {
      reject(GatewayErrorCode.NoUpstream);
      return;
    }
    seen.upstream = upstream.key;
    const headers = buildUpstreamHeaders(req.headers, {
      host: route.preserveHost && req.headers.host ? req.headers.host : upstream.hostHeader,
      peer,
      peerTrusted,
      clientIp,
      proto: (req.socket as TLSSocket).encrypted ? 'https' : 'http',
      requestId,
    });
    headers.connection = 'Upgrade';
    headers.upgrade = req.headers.upgrade ?? 'websocket';
    const target = new URL(upstream.origin);
    const mergedQuery = mergeQuery(upstream.baseQuery, query);
    const forwardedPath = joinPaths(upstream.basePath, route.stripPrefix ? match.rest : path);
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
      timeout: this.config.proxy.connectTimeoutMs,
    });
    // Before the handshake completes, silence is a timeout; afterwards idle sockets are normal.
    upstreamReq.setTimeout(route.timeoutMs, () => {
      upstreamReq.destroy(Object.assign(new Error('upgrade timed out'), { code: 'ETIMEDOUT' }));
    });
    const onClientGone = (): void => {
      upstreamReq.destroy();
    };
    client.once('close', onClientGone);
    upstreamReq.on('error', (err: Error & { code?: string }) => {
      release();
      client.off('close', onClientGone);
      if (client.destroyed) {
        log('client closed the connection');
        return;
      }
      reject(classifyUpstreamError(err), undefined, err.code ?? err.message);
    });
    upstreamReq.on('response', (res) => {
      // The upstream declined the upgrade (401, 404, …): relay its answer as-is and close.
      status = res.statusCode ?? 502;
      client.off('close', onClientGone);
      client.write(statusLine(status, res.statusMessage) + headerBlock(res.rawHeaders, requestId));
      res.on('data', (chunk: Buffer) => {
        bytesOut += chunk.length;
        client.write(chunk);
      });
      res.on('end', () => {
        release();
        client.end();
        log();
      });
      res.on('error', () => {
        release();
        client.destroy();
        log('upstream response error');
      });
    });
    upstreamReq.on('upgrade', (res, upstreamSocket: Socket, upstreamHead: Buffer) => {
      status = 101;
      client.off('close', onClientGone);
      upstreamSocket.setTimeout(0);
      this.open.add(client);
      client.write(
        statusLine(101, res.statusMessage) + headerBlock(res.rawHeaders, requestId, true),
      );
      if (upstreamHead.length > 0) {
        bytesOut += upstreamHead.length;
        client.write(upstreamHead);
      }
      if (head.length > 0) {
        upstreamSocket.write(head);
      }
      upstreamSocket.on('data', (c: Buffer) => (bytesOut += c.length));
      client.on('data', (c: Buffer) => (bytesIn += c.length));
      upstreamSocket.pipe(client);
      client.pipe(upstreamSocket);
      const close = (): void => {
        this.open.delete(client);
        release();
        client.destroy();
        upstreamSocket.destroy();
        log();
      };
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

function writeRawError(
  socket: Duplex,
  code: GatewayErrorCode,
  requestId: string,
  message?: string,
): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const spec = GATEWAY_ERRORS[code];
  const body = errorBody(code, requestId, message);
  socket.end(
    statusLine(spec.statusCode, spec.error) +
      'content-type: application/json; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      'connection: close\r\n' +
      `x-request-id: ${requestId}\r\n\r\n` +
      body,
  );
}
