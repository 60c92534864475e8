import type { IncomingHttpHeaders } from 'node:http';

export interface CorsOptions {
  /** Exact origins (`https://app.example.com`) or `*`. Empty: CORS is left to the upstreams. */
  allowedOrigins: readonly string[];
  allowedMethods: readonly string[];
  allowedHeaders: readonly string[];
  exposedHeaders: readonly string[];
  allowCredentials: boolean;
  maxAgeSeconds: number;
}

export type CorsDecision =
  /** CORS not configured: proceed without CORS headers; the upstream's pass. */
  | { kind: 'none' }
  /** No Origin: proceed and add `Vary: Origin`; the upstream's CORS headers pass. */
  | { kind: 'vary'; headers: string[] }
  /**
   * A CORS request from an allowed origin: proceed with these response headers instead of any
   * `Access-Control-*` header the upstream sent (the gateway's policy is the one that holds).
   */
  | { kind: 'allow'; headers: string[] }
  /** A preflight the gateway answers itself (before auth), with these headers and 204. */
  | { kind: 'preflight'; headers: string[] }
  /**
   * An actual request from an origin that is not allowed: served, with these headers and without
   * any `Access-Control-*` header the upstream sent (so a reflecting upstream cannot allow it).
   */
  | { kind: 'refused'; headers: string[] }
  /** A preflight from an origin that is not allowed, or asking for what is not allowed. */
  | { kind: 'reject'; reason: string };

const VARY_ONLY: CorsDecision = { kind: 'vary', headers: ['vary', 'Origin'] };
const REFUSED: CorsDecision = { kind: 'refused', headers: ['vary', 'Origin'] };

/**
 * CORS as the Fetch standard defines it, compiled once. The gateway answers preflights itself,
 * before authentication (a browser never sends credentials on a preflight), always varies on
 * Origin, and never answers `*` to a credentialed request: with credentials the allowed origin is
 * echoed, and `*` with credentials is refused by the config loader. For a request with an Origin
 * the gateway's answer is the only one: the upstream's `Access-Control-*` headers are dropped.
 */
export class CorsPolicy {
  private readonly enabled: boolean;
  private readonly anyOrigin: boolean;
  private readonly origins: ReadonlySet<string>;
  private readonly methods: ReadonlySet<string>;
  private readonly allowMethodsValue: string;
  private readonly allowHeaders: ReadonlySet<string>;
  private readonly allowHeadersValue: string;
  private readonly exposeValue: string;

  constructor(private readonly options: CorsOptions) {
    this.enabled = options.allowedOrigins.length > 0;
    this.anyOrigin = options.allowedOrigins.includes('*');
    this.origins = new Set(options.allowedOrigins.map((o) => o.toLowerCase()));
    this.methods = new Set(options.allowedMethods.map((m) => m.toUpperCase()));
    this.allowMethodsValue = [...this.methods].join(', ');
    this.allowHeaders = new Set(options.allowedHeaders.map((h) => h.toLowerCase()));
    this.allowHeadersValue = options.allowedHeaders.join(', ');
    this.exposeValue = options.exposedHeaders.join(', ');
  }

  get isEnabled(): boolean {
    return this.enabled;
  }

  evaluate(method: string | undefined, headers: IncomingHttpHeaders): CorsDecision {
    if (!this.enabled) {
      return { kind: 'none' };
    }
    const origin = headers.origin;
    if (origin === undefined) {
      // The answer depends on Origin, so shared caches must key on it even when it is absent.
      return VARY_ONLY;
    }
    const isPreflight =
      method === 'OPTIONS' && headers['access-control-request-method'] !== undefined;
    if (!this.anyOrigin && !this.origins.has(origin.toLowerCase())) {
      // A preflight from elsewhere is refused outright. An actual request is served without
      // CORS headers, the upstream's included (the browser then withholds it from the page):
      // browsers also send Origin on same-origin POSTs, which must keep working for apps served
      // through the gateway.
      return isPreflight ? { kind: 'reject', reason: 'origin not allowed' } : REFUSED;
    }
    const allowOrigin = this.anyOrigin && !this.options.allowCredentials ? '*' : origin;
    const base = ['access-control-allow-origin', allowOrigin, 'vary', 'Origin'];
    if (this.options.allowCredentials) {
      base.push('access-control-allow-credentials', 'true');
    }
    if (!isPreflight) {
      if (this.exposeValue !== '') {
        base.push('access-control-expose-headers', this.exposeValue);
      }
      return { kind: 'allow', headers: base };
    }
    const requested = String(headers['access-control-request-method']).toUpperCase();
    if (!this.methods.has(requested)) {
      return { kind: 'reject', reason: `method ${requested} not allowed` };
    }
    const requestedHeaders = headers['access-control-request-headers'];
    if (typeof requestedHeaders === 'string' && requestedHeaders.trim() !== '') {
      for (const h of requestedHeaders.split(',')) {
        const name = h.trim().toLowerCase();
        if (name !== '' && !this.allowHeaders.has(name)) {
          return { kind: 'reject', reason: `header ${name} not allowed` };
        }
      }
    }
    base.push(
      'access-control-allow-methods',
      this.allowMethodsValue,
      'access-control-allow-headers',
      this.allowHeadersValue,
      'access-control-max-age',
      String(this.options.maxAgeSeconds),
    );
    // Caches must keep preflight answers per requested method/headers too.
    base[3] = 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers';
    return { kind: 'preflight', headers: base };
  }
}
