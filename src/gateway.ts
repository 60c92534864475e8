import {
  METHODS,
  STATUS_CODES,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import type { Logger } from 'pino';
import { installAdminHttp } from './admin/admin-http';
import { AppModule } from './app.module';
import { writeRawError } from './common/errors/gateway-error';
import { buildSecurityHeaders } from './security/headers/security-headers';
import { declineUpgrade, isWebSocketUpgrade } from './common/http/decline-upgrade';
import { resolveRequestId } from './common/http/request-id';
import { serializePipelinedRequests } from './common/http/serialize-pipelined-requests';
import type { GatewayConfig, RouteConfig } from './config/gateway-config.types';
import { GatewayReadiness } from './health/gateway-readiness';
import { ShutdownState } from './health/shutdown-state';
import { GatewayLoad } from './observability/metrics/gateway-load';
import { ProxyRoute } from './proxy/proxy-route';
import { EXPECTS_CONTINUE, ProxyService } from './proxy/proxy.service';
import { UpgradeProxyService } from './proxy/upgrade-proxy.service';
import { ConfigReloadService } from './reload/config-reload.service';
import { frameworkErrorHandler } from './security/own-endpoints/own-endpoint-answers';
import { OwnEndpointGate } from './security/own-endpoints/own-endpoint-gate';

type FrameworkErrorHandler = ReturnType<typeof frameworkErrorHandler>;

export interface Gateway {
  app: NestFastifyApplication;
  server: Server;
  /** Listens on the configured host/port (or `port` when given, e.g. 0 in tests). */
  listen(port?: number, host?: string): Promise<string>;
  /** Graceful stop: no new connections, in-flight requests finish (bounded), pools close. */
  close(): Promise<void>;
  /**
   * `SHUTDOWN_DELAY` then `close()`: readiness answers 503 at once while the listener keeps
   * accepting and serving everything for `delayMs`, so load balancers stop sending before
   * connections start being refused. `skipDelay()` (a second signal) ends the wait early.
   */
  shutdown(delayMs: number): Promise<void>;
  skipDelay(): void;
  readonly inFlight: number;
  /** The `ADMIN_PORT` listener (admin, docs, metrics, monitor), when configured. */
  readonly adminServer: Server | undefined;
  /** Its URL once listening (`ADMIN_PORT` with port 0 picks a free port). */
  readonly adminUrl: string | undefined;
  /**
   * Reloads routes and IP lists as `POST /admin/config/reload` does (SIGHUP); an invalid
   * configuration is refused and logged, and the running one keeps serving. Never rejects.
   */
  reload(trigger: string): Promise<void>;
}

/**
 * Builds the NestJS application on Fastify with the proxy's needs wired in: bodies left unread
 * for streaming, Upgrade requests routed to the WebSocket proxy, deliberate server timeouts, and
 * JSON answers for requests Node's parser rejects.
 */
export async function createGateway(
  config: GatewayConfig,
  logger: Logger,
  options: {
    /** The built-in demo route (`DEMO_UPSTREAM`), kept by reloads that configure no route. */
    demoRoutes?: readonly RouteConfig[];
  } = {},
): Promise<Gateway> {
  // Fastify takes its bad-URL handler at construction, before the app that answers it exists.
  const frameworkErrors: { handler?: FrameworkErrorHandler } = {};
  const adapter = new FastifyAdapter({
    frameworkErrors: (error: FastifyError, req: FastifyRequest, reply: FastifyReply) =>
      frameworkErrors.handler?.(error, req, reply),
    logger: false,
    // Client IPs come from our own TRUSTED_PROXIES resolver, never from Fastify's trustProxy.
    trustProxy: false,
    keepAliveTimeout: config.server.keepAliveTimeoutMs,
    // Uploads may legitimately take long; the request head is bounded by headersTimeout below.
    requestTimeout: 0,
    connectionTimeout: 0,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: 64 * 1024 },
    http: {
      maxHeaderSize: config.server.maxHeaderSize,
      // Node's own answer to HTTP/1.1 without Host is a bare 400; the proxy answers it in the
      // gateway's error shape along with every other invalid Host.
      requireHostHeader: false,
      headersTimeout: config.server.headersTimeoutMs,
      // Node checks header/request timeouts on this period (30 s by default), which would let a
      // slow client hold a socket up to 30 s past HEADERS_TIMEOUT.
      connectionsCheckingInterval: Math.min(1000, config.server.headersTimeoutMs),
    },
  } as ConstructorParameters<typeof FastifyAdapter>[0]);

  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config, logger),
    adapter,
    { bufferLogs: true, bodyParser: false, abortOnError: false },
  );
  app.useLogger(app.get(PinoNestLogger));
  app.flushLogs();
  // Gateway-generated answers carry the security headers too (no TLS on this listener).
  const clientErrorHeaders = buildSecurityHeaders(config.security.securityHeaders).plain;
  frameworkErrors.handler = frameworkErrorHandler(app.get(OwnEndpointGate), clientErrorHeaders);

  const fastify = app.getHttpAdapter().getInstance();
  // Proxied bodies must reach the proxy unread so they stream; gateway endpoints that need a
  // JSON body parse it themselves.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', (_req: unknown, _payload: unknown, done: (e: null) => void) =>
    done(null),
  );

  // Fastify routes only the common methods by default; a proxy must pass WebDAV, CalDAV and
  // the other methods Node parses (as nginx and Envoy do). CONNECT is not proxied: Node hands
  // it to a 'connect' event, never to the router.
  for (const method of METHODS) {
    if (method !== 'CONNECT' && !fastify.supportedMethods.includes(method)) {
      fastify.addHttpMethod(method, { hasBody: true });
    }
  }

  // Before init: it hooks every management route as it is registered, and adds Swagger UI.
  app.get(ConfigReloadService).useWhenNoRoutes(options.demoRoutes ?? []);
  const proxy = app.get(ProxyService);
  const proxyRoute = app.get(ProxyRoute);
  const adminHttp = installAdminHttp(app, config, {
    answers: (req) => proxy.answersOwnRoute(req),
    proxy: (req, res) => proxyRoute.serve(req, res),
  });
  proxy.setAdminListener((req) => adminHttp.onAdminListener(req));

  await app.init();
  const server: Server = app.getHttpServer();
  server.headersTimeout = config.server.headersTimeoutMs;
  server.requestTimeout = 0;
  // One pipelined request at a time per connection, as nginx and Envoy run them.
  serializePipelinedRequests(server);

  let inFlight = 0;
  let closing = false;
  // One shared listener, added with `on`: a response emits 'close' once, and a closure plus a
  // `once` wrapper per request is garbage the hot path does not need.
  const onResponseClosed = (): void => {
    inFlight--;
    if (closing) {
      // Keep-alive sockets would otherwise stay open until their idle timeout.
      server.closeIdleConnections();
    }
  };
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    res.on('close', onResponseClosed);
  });

  // With a listener here Node no longer answers `100 Continue` by itself: the proxy sends it
  // after the edge checks, so a refused client is never invited to upload its body.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    (req as IncomingMessage & { [EXPECTS_CONTINUE]?: boolean })[EXPECTS_CONTINUE] = true;
    server.emit('request', req, res);
  });

  // active_connections and /stats: open client sockets, and the proxy's requests in flight.
  const load = app.get(GatewayLoad);
  load.inFlightSource = app.get(ProxyService);
  server.on('connection', load.onConnection);

  const upgrades = app.get(UpgradeProxyService);
  const decline = declineUpgrade(server);
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (closing) {
      socket.destroy();
      return;
    }
    if (!isWebSocketUpgrade(req)) {
      // h2c and other offers: answered over HTTP/1.1, as nginx does.
      decline(req, socket, head);
      return;
    }
    upgrades.handle(req, socket, head);
  });

  const onClientError = (err: Error & { code?: string }, socket: Socket): void => {
    answerClientError(err, socket, clientErrorHeaders);
  };
  for (const listener of [server, adminHttp.server]) {
    listener?.removeAllListeners('clientError');
    listener?.on('clientError', onClientError);
  }

  let adminUrl: string | undefined;
  let endDelay: (() => void) | undefined;
  const gateway: Gateway = {
    app,
    server,
    adminServer: adminHttp.server,
    get adminUrl() {
      return adminUrl;
    },
    get inFlight() {
      return inFlight;
    },
    async reload(trigger: string): Promise<void> {
      // Refusals are logged by the service, with every problem.
      await app
        .get(ConfigReloadService)
        .reload(trigger)
        .catch(() => undefined);
    },
    async listen(port = config.server.port, host = config.server.host): Promise<string> {
      await app.listen(port, host);
      adminUrl = await adminHttp.listen();
      app.get(GatewayReadiness).markStarted();
      const address = server.address();
      if (address && typeof address === 'object') {
        const h = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        return `http://${h}:${address.port}`;
      }
      return String(address);
    },
    async shutdown(delayMs: number): Promise<void> {
      app.get(ShutdownState).markShuttingDown();
      if (delayMs > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delayMs);
          endDelay = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        endDelay = undefined;
      }
      await gateway.close();
    },
    skipDelay(): void {
      endDelay?.();
    },
    async close(): Promise<void> {
      // Readiness turns 503 first, so load balancers stop sending before the listener closes.
      app.get(ShutdownState).markShuttingDown();
      closing = true;
      const force = setTimeout(() => {
        logger.warn(
          { inFlight },
          `shutdown timeout (${config.server.shutdownTimeoutMs} ms) reached; closing remaining connections`,
        );
        server.closeAllConnections();
        upgrades.onApplicationShutdown();
      }, config.server.shutdownTimeoutMs);
      force.unref();
      server.closeIdleConnections();
      try {
        await adminHttp.close(config.server.shutdownTimeoutMs);
        await app.close();
      } finally {
        clearTimeout(force);
      }
    },
  };
  return gateway;
}

/**
 * Node's parser rejected the request (bad request line, oversized head, header timeout). Answer
 * in the gateway's JSON shape when the socket can still take it, then close; never throw.
 */
function answerClientError(
  err: Error & { code?: string },
  socket: Socket,
  securityHeaders: readonly string[],
): void {
  if (err.code === 'ECONNRESET' || !socket.writable || socket.destroyed) {
    socket.destroy();
    return;
  }
  const pending = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (pending && !pending.writableFinished && pending.req.complete) {
    // The error is in a later pipelined request (a bad request after a good one, a stalled head
    // behind an SSE stream): it waits for the earlier response, so the client gets every answer
    // the upstream already acted on, in order, and the error last.
    const retry = (): void => {
      pending.off('finish', retry);
      pending.off('close', retry);
      setImmediate(() => answerClientError(err, socket, securityHeaders));
    };
    pending.once('finish', retry);
    pending.once('close', retry);
    return;
  }
  if (pending?.headersSent) {
    // The broken request's own response is on the wire: an error now would corrupt it.
    socket.destroy();
    return;
  }
  let status = 400;
  let message = 'Malformed HTTP request';
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    message = 'Request header fields too large';
    if (isOverlongRequestLine(err)) {
      status = 414;
      message = 'Request target too long';
    }
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'HPE_TIMEOUT') {
    status = 408;
    message = 'Request head not received in time';
  }
  writeRawError(
    socket,
    status,
    STATUS_CODES[status] ?? 'Bad Request',
    message,
    resolveRequestId(undefined),
    securityHeaders,
  );
}

/**
 * The head overflowed inside its request line (nginx answers 414 there, not 431): the packet
 * being parsed starts a request and has no line end before the overflow. Node's parser does not
 * say which part overflowed, so a request line split over many small TCP segments still gets 431.
 */
function isOverlongRequestLine(
  err: Error & { bytesParsed?: number; rawPacket?: unknown },
): boolean {
  const packet = err.rawPacket;
  if (!Buffer.isBuffer(packet) || !REQUEST_LINE_START.test(packet.toString('latin1', 0, 16))) {
    return false;
  }
  const end = packet.indexOf(10 /* \n */);
  return end === -1 || end >= (err.bytesParsed ?? packet.length);
}

const REQUEST_LINE_START = /^[A-Z]{3,10} \S/;
