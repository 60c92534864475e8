/**
 * The typed, validated configuration every module reads. Built once at boot by
 * `loadGatewayConfig()` (src/config/load-config.ts) from `.env`, the environment and the optional
 * `GATEWAY_CONFIG` file; nothing else reads `process.env`.
 *
 * All durations are milliseconds.
 */

export const LOAD_BALANCING_ALGORITHMS = [
  'round-robin',
  'least-conn',
  'ip-hash',
  'weighted',
] as const;
export type LoadBalancingAlgorithm = (typeof LOAD_BALANCING_ALGORITHMS)[number];

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface UpstreamConfig {
  /** Normalised absolute URL, e.g. `http://10.0.0.5:8080/base?x=1`. */
  url: string;
  /** Relative weight for `weighted` and weight-aware algorithms. @default 1 */
  weight: number;
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
  /** Time allowed for the upstream to answer headers, and between body chunks. */
  timeoutMs: number;
  /** Active health-check path (`GET`, expecting 2xx); TCP connect when undefined. */
  healthPath?: string;
  /** Forward the client's Host header instead of the upstream's. */
  preserveHost: boolean;
  /** Overrides `loadBalancing.algorithm` for this route. */
  algorithm?: LoadBalancingAlgorithm;
}

export interface ServerConfig {
  /** Listen address. @default '0.0.0.0' */
  host: string;
  /** @default 9777 */
  port: number;
  /** Longest time in-flight requests may take to finish on SIGTERM/SIGINT. @default 30000 */
  shutdownTimeoutMs: number;
  /** Idle keep-alive timeout for client connections; above common LB idle timeouts (60 s). @default 65000 */
  keepAliveTimeoutMs: number;
  /** Time a client has to send the complete request head. @default 30000 */
  headersTimeoutMs: number;
  /** Largest request head (request line + headers) in bytes. @default 16384 */
  maxHeaderSize: number;
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
}

export interface LoadBalancingConfig {
  /** `LOAD_BALANCING_ALGO`. @default 'least-conn' */
  algorithm: LoadBalancingAlgorithm;
  /** `HEALTH_CHECK_INTERVAL`. @default 10000 */
  healthCheckIntervalMs: number;
}

export interface ResilienceConfig {
  /** `CIRCUIT_BREAKER_MAX`: consecutive failures that open a breaker. @default 5 */
  circuitBreakerMax: number;
  /** `CIRCUIT_BREAKER_TIMEOUT`: open → half-open delay. @default 30000 */
  circuitBreakerTimeoutMs: number;
}

export interface SecurityConfig {
  /** `MAX_REQUESTS_PER_SECOND`. @default 100 */
  maxRequestsPerSecond: number;
  /** `MAX_BURST_SIZE`. @default 200 */
  maxBurstSize: number;
  /** `DDOS_THRESHOLD`: requests per sliding minute before a block. @default 1000 */
  ddosThreshold: number;
  /** `BLOCK_DURATION`. @default 600000 */
  blockDurationMs: number;
  /** `JWT_SECRET` (sensitive). */
  jwtSecret?: string;
  /** `CORS_ALLOWED_ORIGINS` (JSON array). @default [] */
  corsAllowedOrigins: string[];
  /** `IP_WHITELIST` (comma separated IPs/CIDRs). */
  ipWhitelist: string[];
  /** `IP_BLACKLIST` (comma separated IPs/CIDRs). */
  ipBlacklist: string[];
}

export interface CacheConfig {
  /** `ENABLE_CACHING`. @default true */
  enabled: boolean;
  /** `CACHE_TTL`. @default 300000 */
  ttlMs: number;
  /** `ENABLE_COMPRESSION`. @default true */
  compression: boolean;
}

export interface RedisConfig {
  /** `REDIS_URL`, or `redis://` + `REDIS_ADDR`; undefined means in-memory state only. */
  url?: string;
}

export interface LogConfig {
  /** `LOG_LEVEL` (Go names DEBUG/INFO/WARN/WARNING/ERROR accepted). @default 'info' */
  level: LogLevel;
  /** Human-readable output; only ever true when stdout is a TTY. */
  pretty: boolean;
}

export interface GatewayConfig {
  server: ServerConfig;
  proxy: ProxyConfig;
  loadBalancing: LoadBalancingConfig;
  resilience: ResilienceConfig;
  security: SecurityConfig;
  cache: CacheConfig;
  redis: RedisConfig;
  log: LogConfig;
  /** Start the built-in demo upstream on `/demo` when no route is configured. @default true */
  demoUpstream: boolean;
  /** `NO_DASHBOARD` set. */
  noDashboard: boolean;
  /** Path of the declarative config file, when one was used. */
  configFile?: string;
  routes: RouteConfig[];
}
