/**
 * The typed, validated configuration every module reads. Built once at boot by
 * `loadGatewayConfig()` (src/config/load-config.ts) from `.env`, the environment and the optional
 * `GATEWAY_CONFIG` file; nothing else reads `process.env`.
 *
 * All durations are milliseconds. Settings are declared in src/config/settings/; a field's
 * `@default`, where given, is that declaration's (a unit spec checks they agree).
 */
import type { JwtAlgorithm } from '../common/crypto/jws-algorithms';

export const LOAD_BALANCING_ALGORITHMS = [
  'round-robin',
  'least-conn',
  'ip-hash',
  'weighted',
] as const;
export type LoadBalancingAlgorithm = (typeof LOAD_BALANCING_ALGORITHMS)[number];

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Fields an access-log line can carry (`ACCESS_LOG_FIELDS`), in the order a line writes them. */
export const ACCESS_LOG_FIELDS = [
  'requestId',
  'method',
  'host',
  'path',
  'query',
  'route',
  'upstream',
  'status',
  'durationMs',
  'upstreamLatencyMs',
  'attempts',
  'cacheStatus',
  'bytesIn',
  'bytesOut',
  'clientIp',
  'userAgent',
  'referer',
  'principal',
  'error',
  'traceId',
] as const;
export type AccessLogField = (typeof ACCESS_LOG_FIELDS)[number];

/**
 * Query parameters whose values the access log masks by default (`ACCESS_LOG_REDACT_PARAMS`):
 * credentials clients put in URLs (OAuth, API keys, pre-signed cloud URLs, sessions).
 */
export const DEFAULT_REDACTED_PARAMS: readonly string[] = [
  'access_token',
  'api_key',
  'apikey',
  'api-key',
  'auth',
  'authorization',
  'client_secret',
  'code',
  'id_token',
  'jwt',
  'key',
  'password',
  'passwd',
  'pwd',
  'refresh_token',
  'secret',
  'session',
  'sessionid',
  'sig',
  'signature',
  'token',
  'x-amz-credential',
  'x-amz-security-token',
  'x-amz-signature',
  'x-goog-credential',
  'x-goog-signature',
];

export interface UpstreamConfig {
  /** Normalised absolute URL, e.g. `http://10.0.0.5:8080/base?x=1`. */
  url: string;
  /** Relative weight for `weighted` and weight-aware algorithms. @default 1 */
  weight: number;
  /** Statuses of this upstream counted as failures, on top of the route's and the default list. */
  failureStatuses?: number[];
}

export interface RouteConfig {
  /** Unique, lower-case name; used in logs and metrics labels. */
  name: string;
  /** Normalised host pattern: `''` any host, `api.example.com` exact, `*.example.com` wildcard. */
  host: string;
  /** Path prefix starting with `/`; matched on `/` segment boundaries. @default '/' */
  prefix: string;
  /** At least one upstream, de-duplicated, in declaration order. */
  upstreams: UpstreamConfig[];
  /** Remove `prefix` before forwarding. */
  stripPrefix: boolean;
  /** Request needs authentication (enforced by the security module). */
  requireAuth: boolean;
  /** Credentials a `requireAuth` route accepts (`auth`); absent means every method. */
  auth?: RouteAuthMethod[];
  /** Remove the accepted credential headers before forwarding (`hide_credentials`). */
  hideCredentials?: boolean;
  /** Time allowed for the upstream to answer headers, and between body chunks. */
  timeoutMs: number;
  /** Active health-check path (`GET`, expecting 2xx); TCP connect when undefined. */
  healthPath?: string;
  /** Forward the client's Host header instead of the upstream's. */
  preserveHost: boolean;
  /** Overrides `loadBalancing.algorithm` for this route. */
  algorithm?: LoadBalancingAlgorithm;
  /** The route's own token bucket (`rate_limit`), checked in addition to the per-IP default one. */
  rateLimit?: RouteRateLimit;
  /** Overrides `security.maxBodyBytes` (`max_body_size`, bytes; 0 = unlimited). */
  maxBodyBytes?: number;
  /** Per-route response cache settings (`cache`); absent means the global `cache` settings. */
  cache?: RouteCacheConfig;
  /**
   * `failure_statuses`: statuses counted against this route's upstreams (breaker, ejection,
   * `upstream_errors_total`) on top of `CIRCUIT_BREAKER_FAILURE_STATUSES`.
   */
  failureStatuses?: number[];
  /**
   * Security headers of proxied answers (`security_headers`): a value sets a header, `true` the
   * gateway's strict value, `false` none; unnamed headers keep the proxied defaults.
   */
  securityHeaders?: RouteSecurityHeaders;
}

/**
 * Ways a route may authenticate requests (`auth:`). The consumers and edge issues add
 * `introspection`, `client_cert` and `oidc_login` here.
 */
export const ROUTE_AUTH_METHODS = ['jwt', 'api_key'] as const;
export type RouteAuthMethod = (typeof ROUTE_AUTH_METHODS)[number];

/** Headers a route may set or disable under `security_headers:`. */
export const ROUTE_SECURITY_HEADER_KEYS = [
  'content_security_policy',
  'x_frame_options',
  'x_content_type_options',
  'referrer_policy',
  'strict_transport_security',
  'x_xss_protection',
  'permissions_policy',
] as const;
export type RouteSecurityHeaderKey = (typeof ROUTE_SECURITY_HEADER_KEYS)[number];
export type RouteSecurityHeaders = Partial<Record<RouteSecurityHeaderKey, string | boolean>>;

export interface RouteCacheConfig {
  /** Cache this route's responses (still subject to `ENABLE_CACHING`). @default true */
  enabled: boolean;
  /** Overrides `CACHE_TTL` for responses that say nothing about their freshness. */
  ttlMs?: number;
  /** Store responses carrying `Set-Cookie` (the cookie is stored and replayed). @default false */
  allowSetCookie: boolean;
}

export const RATE_LIMIT_KEYS = ['ip', 'api_key', 'jwt_sub'] as const;
/** What a route's bucket is keyed by: the client IP, the API key, or the JWT `sub` claim. */
export type RateLimitKey = (typeof RATE_LIMIT_KEYS)[number];

export interface RouteRateLimit {
  /** Tokens refilled per second; may be fractional (`0.5` is one request every 2 s). */
  rate: number;
  /** Bucket capacity: requests allowed at once after an idle period. @default ceil(rate) */
  burst: number;
  /** @default 'ip' */
  key: RateLimitKey;
}

export interface ServerConfig {
  /** Listen host, from `GATEWAY_PORT`. */
  host: string;
  /** Listen port, from `GATEWAY_PORT`. */
  port: number;
  /** Longest time in-flight requests may take to finish on SIGTERM/SIGINT. @default 30000 */
  shutdownTimeoutMs: number;
  /**
   * `SHUTDOWN_DELAY`: on SIGTERM, how long readiness answers 503 while the listener keeps serving,
   * before the drain starts. SIGINT skips it. @default 0
   */
  shutdownDelayMs: number;
  /** Idle keep-alive timeout for client connections; above common LB idle timeouts (60 s). @default 65000 */
  keepAliveTimeoutMs: number;
  /** Time a client has to send the complete request head. @default 30000 */
  headersTimeoutMs: number;
  /** Largest request head (request line + headers) in bytes. @default 16384 */
  maxHeaderSize: number;
  /** `GATEWAY_WORKERS`: worker processes sharing the port (`auto` = CPU count). @default 1 */
  workers: number;
}

export interface ProxyConfig {
  /** Default per-route timeout (`CONNECTION_TIMEOUT`). @default 30000 */
  connectionTimeoutMs: number;
  /** Time allowed to open a TCP/TLS connection to an upstream. @default 5000 */
  connectTimeoutMs: number;
  /** `MAX_IDLE_CONNS`, kept for compatibility: idle sockets kept per upstream pool. @default 100 */
  maxIdleConns: number;
  /** `IDLE_CONN_TIMEOUT`: how long an idle upstream socket is kept. @default 90000 */
  idleConnTimeoutMs: number;
  /** CIDRs whose forwarding headers are believed (`TRUSTED_PROXIES`). @default [] */
  trustedProxies: string[];
  /** `MAX_IN_FLIGHT`: proxied requests in progress before new ones get 503. @default 10000 */
  maxInFlight: number;
  /**
   * `ALLOW_UNDERSCORE_HEADERS` (nginx `underscores_in_headers`): forward request headers whose
   * names contain `_`. Even then a name that folds onto a header the gateway sets, strips or
   * keys on (`X_User_Id`, `X_Forwarded_For`) is dropped. @default false
   */
  allowUnderscoreHeaders: boolean;
  /**
   * `STRIP_CLIENT_HEADERS`: lower-case request headers removed from clients outside
   * TRUSTED_PROXIES; by default the forwarding headers of src/common/http/forwarding-headers.ts.
   */
  stripClientHeaders: string[];
  /**
   * `WEBSOCKET_IDLE_TIMEOUT`: an upgraded WebSocket with no bytes either way for this long is
   * closed, so idle sockets cannot hold MAX_IN_FLIGHT slots forever; 0 = never. @default 300000
   */
  websocketIdleTimeoutMs: number;
  /**
   * `WEBSOCKET_MAX_PER_IP`: open WebSockets per client (its `RATE_LIMIT_IPV6_PREFIX` network for
   * IPv6) before new upgrades get 429; 0 = no cap. @default 256
   */
  websocketMaxPerIp: number;
}

export interface LoadBalancingConfig {
  /** `LOAD_BALANCING_ALGO`. @default "least-conn" */
  algorithm: LoadBalancingAlgorithm;
  /** `HEALTH_CHECK_INTERVAL`: time between active probes of every upstream. @default 10000 */
  healthCheckIntervalMs: number;
  /** `HEALTH_CHECK_TIMEOUT`: a probe (TCP connect or `GET health_path`) slower than this fails. @default 2000 */
  healthCheckTimeoutMs: number;
  /** `HEALTH_CHECK_FAILS`: consecutive failed probes before an upstream is marked down. @default 2 */
  healthCheckFails: number;
  /** `HEALTH_CHECK_PASSES`: consecutive passed probes before a down upstream is marked up. @default 1 */
  healthCheckPasses: number;
  /**
   * `PASSIVE_EJECT_FAILURES`: consecutive failures of live traffic (connect errors, resets,
   * timeouts, 5xx) that eject an upstream; 0 turns passive ejection off. @default 5
   */
  passiveEjectFailures: number;
  /**
   * `PASSIVE_EJECT_BASE`: first ejection period; it doubles on each repeated ejection, up to 10×.
   * @default 30000
   */
  passiveEjectBaseMs: number;
  /**
   * `UPSTREAM_STALL_TIMEOUT`: an upstream that answers nothing for this long (or for twice the
   * slowest answer its pool gave recently, if longer) while requests wait on it and its peers
   * answer newer ones is ejected, and its waiting retryable requests move to the peers; 0 turns
   * this off. @default 500
   */
  stallTimeoutMs: number;
}

export interface ResilienceConfig {
  /** `CIRCUIT_BREAKER_MAX`: consecutive exchange failures (connect, timeout, reset) that open a breaker. @default 5 */
  circuitBreakerMax: number;
  /** `CIRCUIT_BREAKER_FAILURE_RATE`: failure percentage over the window that opens a breaker (0 = off). @default 50 */
  circuitBreakerFailureRate: number;
  /** `CIRCUIT_BREAKER_MIN_REQUESTS`: calls the window must hold before the rate is judged. @default 20 */
  circuitBreakerMinRequests: number;
  /** `CIRCUIT_BREAKER_WINDOW`: length of the rolling window the rate is measured over. @default 10000 */
  circuitBreakerWindowMs: number;
  /**
   * `CIRCUIT_BREAKER_FAILURE_STATUSES`: statuses that count as an upstream failure on every route
   * (routes and upstreams may add more). @default [502,503,504]
   */
  failureStatuses: number[];
  /** `CIRCUIT_BREAKER_TIMEOUT`: open → half-open delay. @default 30000 */
  circuitBreakerTimeoutMs: number;
  /** `RETRY_ATTEMPTS`: tries per request in all, the first included (1 = never retry). @default 3 */
  retryAttempts: number;
  /** `RETRY_BUDGET_PERCENT`: retries in flight per route, as % of its active requests (0–100). @default 20 */
  retryBudgetPercent: number;
  /** `RETRY_BACKOFF`: ceiling of the first retry's full-jitter wait; doubles per retry. @default 100 */
  retryBaseDelayMs: number;
  /** `RETRY_AFTER_CAP`: longest upstream `Retry-After` honoured before a retry. @default 5000 */
  retryAfterCapMs: number;
}

export interface SecurityConfig {
  /** `MAX_REQUESTS_PER_SECOND`. @default 100 */
  maxRequestsPerSecond: number;
  /** `MAX_BURST_SIZE`. @default 200 */
  maxBurstSize: number;
  /**
   * `DDOS_THRESHOLD`: requests per sliding minute before a block. Unset, five times what the
   * bucket admits in a minute (`60 × maxRequestsPerSecond + maxBurstSize`).
   */
  ddosThreshold: number;
  /** `BLOCK_DURATION`. @default 600000 */
  blockDurationMs: number;
  /** `CORS_ALLOWED_ORIGINS` (JSON array). @default [] */
  corsAllowedOrigins: string[];
  /** `CORS_ALLOWED_METHODS`. @default ["GET","HEAD","POST","PUT","PATCH","DELETE","OPTIONS"] */
  corsAllowedMethods: string[];
  /** `CORS_ALLOWED_HEADERS`. @default ["Authorization","Content-Type","X-API-Key","X-Request-Id"] */
  corsAllowedHeaders: string[];
  /** `CORS_EXPOSED_HEADERS`. @default ["X-Request-Id","RateLimit","RateLimit-Policy","Retry-After"] */
  corsExposedHeaders: string[];
  /** `CORS_ALLOW_CREDENTIALS` (never together with a `*` origin). @default false */
  corsAllowCredentials: boolean;
  /** `CORS_MAX_AGE`: how long browsers may cache a preflight answer. @default 600000 */
  corsMaxAgeMs: number;
  /** `SECURITY_HEADERS`: add the security headers to responses. @default true */
  securityHeaders: boolean;
  /** `MAX_BODY_SIZE`: largest request body in bytes, enforced while streaming; 0 = none. @default 10485760 */
  maxBodyBytes: number;
  /** `MAX_HEADER_COUNT`: most request header fields accepted (431 beyond). @default 100 */
  maxHeaderCount: number;
  /** `IP_WHITELIST` (comma separated IPs/CIDRs). */
  ipWhitelist: string[];
  /** `IP_BLACKLIST` (comma separated IPs/CIDRs). */
  ipBlacklist: string[];
  /**
   * `RATE_LIMIT_MAX_KEYS`: most token buckets (and, separately, flood counters) kept in memory;
   * beyond it the least recently used is dropped, so a flood of distinct IPs cannot grow memory
   * without bound. @default 100000
   */
  rateLimitMaxKeys: number;
  /** `RATE_LIMIT_FAIL_CLOSED`: answer 429 instead of using per-replica buckets while Redis is down. @default false */
  rateLimitFailClosed: boolean;
  /**
   * `RATE_LIMIT_IPV6_PREFIX`: IPv6 clients are rate limited, flood-counted and blocked per network
   * of this prefix length, since one subscriber holds a whole /64 (or more) and can rotate
   * addresses inside it; 128 = per address. IPv4 clients are always per address. @default 64
   */
  rateLimitIpv6Prefix: number;
  /**
   * `OWN_ENDPOINTS_RATE`: per-client token refill rate on the gateway's own endpoints (health,
   * metrics, stats, monitor, docs, admin), in this process only. @default 20
   */
  ownEndpointsRate: number;
  /** `OWN_ENDPOINTS_BURST`: per-client bucket capacity on the gateway's own endpoints. @default 100 */
  ownEndpointsBurst: number;
  /** `ALLOW_TRACE`: proxy TRACE instead of answering it 405. @default false */
  allowTrace: boolean;
}

// The list lives with the verifier's algorithm table; config names it for JWT_ALGORITHMS.
export { JWT_ALGORITHMS, type JwtAlgorithm } from '../common/crypto/jws-algorithms';

/** One entry of `API_KEYS_FILE`; plain keys are hashed while loading and never kept. */
export interface ApiKeyConfig {
  /** Lower-case hex SHA-256 of the key. */
  hash: string;
  /** Label for logs and the admin API. */
  name?: string;
  /** Per-key token bucket (requests per second, capacity) overriding the route's. */
  rateLimit?: { rate: number; burst: number };
  /** `scopes=admin`: the key may also call the admin API. */
  admin?: boolean;
}

/** A claim copied into an upstream request header after a JWT is verified. */
export interface ForwardedClaim {
  /** Top-level claim name, e.g. `sub`. */
  claim: string;
  /** Lower-case header name, e.g. `x-user-id`. */
  header: string;
}

export interface AuthConfig {
  /** `JWT_SECRET` (sensitive): HMAC key for HS256/384/512 tokens. */
  jwtSecret?: string;
  /** `JWT_PUBLIC_KEY`, or the contents of `JWT_PUBLIC_KEY_FILE`: PEM public key for RS/PS/ES tokens. */
  jwtPublicKey?: string;
  /** `JWKS_URL`: JSON Web Key Set with the issuer's public keys, selected by `kid`. */
  jwksUrl?: string;
  /**
   * `JWT_ALGORITHMS`: the only algorithms accepted. Derived when unset: HS256 with a secret, the
   * public key's algorithm (RS256, ES256, ...), RS256 and ES256 with a JWKS.
   */
  jwtAlgorithms: JwtAlgorithm[];
  /** `JWT_ISSUER`: accepted `iss` values; unchecked when empty. @default [] */
  jwtIssuers: string[];
  /** `JWT_AUDIENCE`: accepted `aud` values (any one must be present); unchecked when empty. @default [] */
  jwtAudiences: string[];
  /** `JWT_CLOCK_TOLERANCE`: leeway for `exp` and `nbf`. @default 30000 */
  jwtClockToleranceMs: number;
  /** `JWT_FORWARD_CLAIMS`: claims sent upstream as headers. @default [{"claim":"sub","header":"x-user-id"}] */
  jwtForwardClaims: ForwardedClaim[];
  /** `API_KEYS_FILE`, resolved to an absolute path. */
  apiKeysFile?: string;
  /** Keys read from `API_KEYS_FILE`, hashed; empty without that file. */
  apiKeys: ApiKeyConfig[];
  /** `PUBLIC_PATHS`: exact paths, or prefixes written `/prefix/*`, that never need auth. @default [] */
  publicPaths: string[];
}

export interface CacheConfig {
  /** `ENABLE_CACHING`. @default true */
  enabled: boolean;
  /**
   * `CACHE_TTL`: freshness given to cacheable responses that state none, when the operator set it
   * (see `ttlExplicit`); also the cap of heuristic freshness from `Last-Modified`. @default 300000
   */
  ttlMs: number;
  /**
   * `CACHE_TTL` was set (environment, `.env` or config file) rather than left at its default:
   * only then are responses that state no freshness cacheable.
   */
  ttlExplicit: boolean;
  /** `CACHE_MAX_OBJECT_SIZE`: largest response body stored, in bytes. @default 1048576 */
  maxObjectBytes: number;
  /** `CACHE_MAX_SIZE`: total bytes of the in-memory store (LRU beyond it). @default 67108864 */
  maxMemoryBytes: number;
  /** `ENABLE_COMPRESSION`: gzip/brotli responses by Accept-Encoding. @default true */
  compression: boolean;
  /** `COMPRESSION_MIN_SIZE`: smallest body compressed, in bytes. @default 1024 */
  compressionMinBytes: number;
  /**
   * `CACHE_TARGETED_FIELD`: lower-case name of this gateway's own targeted cache-control field
   * (RFC 9213), read before `CDN-Cache-Control` and `Cache-Control` and removed from responses.
   */
  targetedField?: string;
  /**
   * `CACHE_STALE_ON_ERROR`: how long past its freshness a stored response may still be served
   * when the upstream cannot be reached (RFC 9111 §4.2.4), unless it forbids it; 0 = never.
   * @default 1800000
   */
  staleOnErrorMs: number;
}

export interface RedisConfig {
  /** `REDIS_URL`, or `redis://` + `REDIS_ADDR`; undefined means in-memory state only. */
  url?: string;
  /** `REDIS_PASSWORD` (sensitive): used when the URL carries none. */
  password?: string;
  /** `REDIS_SENTINELS`: `host:port` list; with it, `url` only supplies credentials/TLS/db. @default [] */
  sentinels: { host: string; port: number }[];
  /** `REDIS_SENTINEL_NAME`: master group name asked of the sentinels. @default "mymaster" */
  sentinelName: string;
  /** `REDIS_CLUSTER_NODES`: `host:port` seed list of a Redis Cluster. @default [] */
  clusterNodes: { host: string; port: number }[];
}

export interface TracingConfig {
  /**
   * OTLP/HTTP traces endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`, or
   * `JAEGER_ENDPOINT` as given); undefined means tracing is off.
   */
  endpoint?: string;
  /** `OTEL_SERVICE_NAME`. @default "nest-edge-gateway" */
  serviceName: string;
  /** `TRACE_SAMPLE_RATIO` (0–1) for requests without a sampled parent. @default 1 */
  sampleRatio: number;
}

export interface ObservabilityConfig {
  tracing: TracingConfig;
  /** `SERVER_TIMING`: add `Server-Timing` and `X-Gateway-Latency` response headers. @default false */
  serverTiming: boolean;
  /**
   * `METRICS_CACHE_TTL`: one rendering of `/metrics` is served again for this long, so a client
   * polling it in a loop cannot make the gateway render every metric per request; 0 = never.
   * @default 1000
   */
  metricsCacheMs: number;
}

export interface AdminConfig {
  /** `ADMIN_TOKEN` (sensitive, at least 32 characters); undefined disables the admin API. */
  token?: string;
  /** `ADMIN_PORT`: separate listener for admin, docs, metrics and monitor (host defaults to 127.0.0.1). */
  listen?: { host: string; port: number };
}

export interface LogConfig {
  /** `LOG_LEVEL` (Go names DEBUG/INFO/WARN/WARNING/ERROR accepted). @default "info" */
  level: LogLevel;
  /** Human-readable output; only ever true when stdout is a TTY. */
  pretty: boolean;
  /** `ACCESS_LOG_FILE`: write access lines to this file (buffered) instead of stdout. */
  accessLogFile?: string;
  /** `ACCESS_LOG_FIELDS`: the fields access lines carry (every field unless set). */
  accessLogFields: AccessLogField[];
  /** `ACCESS_LOG_REDACT_PARAMS`: query parameters whose values are masked (lower case). */
  accessLogRedactParams: string[];
}

export interface GatewayConfig {
  server: ServerConfig;
  proxy: ProxyConfig;
  loadBalancing: LoadBalancingConfig;
  resilience: ResilienceConfig;
  security: SecurityConfig;
  auth: AuthConfig;
  cache: CacheConfig;
  redis: RedisConfig;
  log: LogConfig;
  observability: ObservabilityConfig;
  admin: AdminConfig;
  /** Start the built-in demo upstream on `/demo` when no route is configured. @default true */
  demoUpstream: boolean;
  /** `NO_DASHBOARD` set. */
  noDashboard: boolean;
  /**
   * `GATEWAY_CONFIG_WATCH`: reload routes and IP lists when the config file or `.env` changes.
   * @default false
   */
  configWatch: boolean;
  /** Path of the declarative config file, when one was used. */
  configFile?: string;
  routes: RouteConfig[];
}
