import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { GatewayErrorCode } from '../common/errors/gateway-error';
import { GatewayRejection } from '../common/errors/gateway-rejection';
import { isReservedPath } from '../common/http/reserved-paths';
import type { GatewayConfig } from '../config/gateway-config.types';
import { canonicalizePath } from '../routing/request-path';
import { BASE_SECURITY_HEADERS, buildSecurityHeaders } from '../security/headers/security-headers';
import { replyWithRejection, writeRejection } from '../security/own-endpoints/own-endpoint-answers';
import { OwnEndpointGate } from '../security/own-endpoints/own-endpoint-gate';

/**
 * Swagger UI needs inline styles and data: images; scripts stay same-origin only, and "Try it
 * out" calls this same origin, so nothing else is allowed.
 */
export const DOCS_CSP =
  "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'";

/**
 * Where a request Fastify routed to one of the gateway's own routes goes when the gateway does
 * not answer that path on that host (a host route claims the host, or `ADMIN_PORT` moved it):
 * the proxy. Given by `createGateway`, which composes the proxy (this module may not import it).
 */
export interface OwnRouteHandOff {
  /** Whether the gateway answers this request itself on the public port. */
  answers(req: IncomingMessage): boolean;
  /** Runs the request through the proxy (edge checks, routing, upstream), answering it. */
  proxy(req: IncomingMessage, res: ServerResponse): void;
}

export interface AdminHttp {
  /** The separate admin listener (`ADMIN_PORT`), when configured. */
  readonly server: Server | undefined;
  /** Whether a request arrived on the admin listener. */
  onAdminListener(req: IncomingMessage): boolean;
  /** Starts the admin listener; resolves with its URL (undefined without `ADMIN_PORT`). */
  listen(port?: number, host?: string): Promise<string | undefined>;
  close(timeoutMs: number): Promise<void>;
}

/**
 * The HTTP wiring of the gateway's own endpoints, done before `app.init()` so it sees every
 * route:
 *
 * - Swagger UI and `/docs-json` when the admin API is enabled (`ADMIN_TOKEN`);
 * - security headers on the gateway's own answers (`/health`, `/stats`, `/metrics`, `/admin`,
 *   `/docs`, …): Nest routes do not pass the proxy's;
 * - the edge checks of own endpoints ({@link OwnEndpointGate}: deny list, flood blocks, a
 *   per-client limit), on every own route whichever listener it arrives on;
 * - the gateway's paths never shadow a service: on the public port, a request to one of its own
 *   routes goes to the proxy instead when a host route claims its host, and, with `ADMIN_PORT`,
 *   for every path but `/health/live` and `/health/ready` ({@link OwnRouteHandOff});
 * - with `ADMIN_PORT`, a second Node server handing requests to Fastify's router
 *   (`fastify.routing`), which answers every gateway path and nothing else (never proxies).
 *
 * The hooks are attached per route (Fastify `onRoute`) and never to the proxy's catch-all, so
 * proxied requests pay nothing for them.
 */
export function installAdminHttp(
  app: NestFastifyApplication,
  config: GatewayConfig,
  handOff: OwnRouteHandOff,
): AdminHttp {
  const fastify = app.getHttpAdapter().getInstance();
  const separate = config.admin.listen !== undefined;
  const adminSockets = new WeakSet<Socket>();
  const headers = config.security.securityHeaders;
  const plainHeaders = Object.fromEntries(BASE_SECURITY_HEADERS);
  const docsHeaders = { ...plainHeaders, 'content-security-policy': DOCS_CSP };
  const gate = app.get(OwnEndpointGate);
  const securityHeaderList = buildSecurityHeaders(headers).plain;

  // Replying without calling done() ends the request here (Fastify callback-hook style).
  const gated = (req: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    const refusal = gate.admit(req.raw);
    if (refusal === undefined) {
      done();
      return;
    }
    replyWithRejection(reply, refusal, req.headers['x-request-id']);
  };

  // Replying (here: handing the raw request to the proxy) without calling done() ends the
  // request's Fastify lifecycle (callback-hook style). Fastify has not read the body yet, so the
  // proxy streams it.
  const publicPort = (req: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    if (adminSockets.has(req.raw.socket) || handOff.answers(req.raw)) {
      done();
      return;
    }
    reply.hijack();
    handOff.proxy(req.raw, reply.raw);
  };

  // The gateway's own answers (health, stats, metrics, admin, docs, monitor) get the security
  // headers the proxy adds to proxied ones; a page with its own CSP (monitor) sets it later.
  const secure = (req: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    void reply.headers(req.url.startsWith('/docs') ? docsHeaders : plainHeaders);
    done();
  };

  fastify.addHook('onRoute', (route: RouteOptions) => {
    const url = route.url.replace(/\*$/, '');
    // The proxy's catch-all (`*`) writes its own headers; it must not pay for a hook.
    if (url === '' || url === '/') {
      return;
    }
    // First the hand-off: a request that belongs to an upstream gets the proxy's checks and
    // headers, not the own endpoints'. Then security headers, so a refusal by the gate carries them.
    const added = [publicPort, ...(headers ? [secure] : []), gated];
    const existing = route.onRequest;
    route.onRequest =
      existing === undefined
        ? added
        : [...added, ...(Array.isArray(existing) ? existing : [existing])];
  });

  if (config.admin.token !== undefined) {
    const { setupAdminDocs } =
      // Loaded only when the admin API is enabled: a gateway without it does not pay for it.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('./admin-docs') as typeof import('./admin-docs');
    setupAdminDocs(app);
  }

  let server: Server | undefined;
  if (separate) {
    server = createServer(
      {
        maxHeaderSize: config.server.maxHeaderSize,
        headersTimeout: config.server.headersTimeoutMs,
        keepAliveTimeout: config.server.keepAliveTimeoutMs,
        requestTimeout: 0,
      },
      (req: IncomingMessage, res: ServerResponse) => {
        const target = adminListenerTarget(req.url ?? '/');
        if (typeof target !== 'string') {
          // Screened like a request to an own route: the deny list and flood counting apply.
          writeRejection(
            res,
            gate.screen(req) ?? target,
            req.headers['x-request-id'],
            securityHeaderList,
          );
          return;
        }
        // Exactly the target checked above is routed, so the router cannot resolve it anywhere else.
        req.url = target;
        fastify.routing(req, res);
      },
    );
    server.on('connection', (socket: Socket) => adminSockets.add(socket));
  }

  return {
    server,
    onAdminListener: (req) => adminSockets.has(req.socket),
    async listen(port = config.admin.listen?.port, host = config.admin.listen?.host) {
      if (server === undefined || port === undefined) {
        return undefined;
      }
      const s = server;
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, host, () => {
          s.off('error', reject);
          resolve();
        });
      });
      const address = s.address();
      if (address !== null && typeof address === 'object') {
        const h = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        return `http://${h}:${address.port}`;
      }
      return String(address);
    },
    async close(timeoutMs: number) {
      const s = server;
      if (s === undefined || !s.listening) {
        return;
      }
      const force = setTimeout(() => s.closeAllConnections(), timeoutMs);
      force.unref();
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeIdleConnections();
      });
      clearTimeout(force);
    },
  };
}

/**
 * What the admin listener routes: the canonical form of an origin-form target whose path is one
 * of the gateway's own (reserved) paths, with its query; a refusal for anything else. Checking
 * the canonical path, and routing exactly it, means no spelling (`/health/../x`,
 * `/admin/%2e%2e/x`, `//health/..//x`) reaches the proxy's catch-all from here; and every
 * reserved path is refused by the proxy anyway, so even a reserved path no own route serves ends
 * in a 404.
 */
export function adminListenerTarget(url: string): string | GatewayRejection {
  if (url.charCodeAt(0) !== 47 /* / */) {
    // Absolute-form (`GET http://host/x`) and asterisk-form targets are for proxies: not here.
    return new GatewayRejection(GatewayErrorCode.BadRequest, 'Invalid request target');
  }
  const q = url.indexOf('?');
  const canonical = canonicalizePath(q === -1 ? url : url.slice(0, q));
  if (!canonical.ok) {
    return new GatewayRejection(
      GatewayErrorCode.BadRequest,
      `Invalid request path: ${canonical.reason}`,
    );
  }
  if (!isReservedPath(canonical.path)) {
    return new GatewayRejection(GatewayErrorCode.NoRoute);
  }
  return q === -1 ? canonical.path : canonical.path + url.slice(q);
}
