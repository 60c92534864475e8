import { availableParallelism } from 'node:os';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ACCESS_LOG_FIELDS,
  DEFAULT_REDACTED_PARAMS,
  type GatewayConfig,
  type RouteConfig,
} from './gateway-config.types';
import { configFileBytes, loadGatewayConfig, type LoadGatewayConfigResult } from './load-config';
import { DEFAULT_STRIP_CLIENT_HEADERS } from '../common/http/forwarding-headers';

const tmpDirs: string[] = [];

afterAll(() => {
  for (const dir of tmpDirs) {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Loads with `env` only (never the real environment), in a fresh directory holding `files`. */
function load(
  env: Record<string, string> = {},
  files: Record<string, string> = {},
): LoadGatewayConfigResult {
  const cwd = mkdtempSync(join(tmpdir(), 'gateway-config-'));
  tmpDirs.push(cwd);
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(cwd, name), text);
  }
  return loadGatewayConfig({ env, cwd, isTTY: false });
}

function loadOk(
  env: Record<string, string> = {},
  files: Record<string, string> = {},
): { config: GatewayConfig; warnings: string[] } {
  const result = load(env, files);
  if (!result.ok) {
    throw new Error(`expected a valid config, got:\n${result.problems.join('\n')}`);
  }
  return result;
}

function problemsOf(env: Record<string, string>, files: Record<string, string> = {}): string[] {
  const result = load(env, files);
  if (result.ok) {
    throw new Error('expected problems, got a valid config');
  }
  return result.problems;
}

function routesOf(env: Record<string, string>, files: Record<string, string> = {}): RouteConfig[] {
  return loadOk(env, files).config.routes;
}

describe('loadGatewayConfig', () => {
  describe('settings', () => {
    it('should apply the Go defaults and the new defaults when nothing is set', () => {
      const { config, warnings } = loadOk();

      expect(config).toEqual<GatewayConfig>({
        server: {
          host: '0.0.0.0',
          port: 9777,
          shutdownTimeoutMs: 30_000,
          shutdownDelayMs: 0,
          keepAliveTimeoutMs: 65_000,
          headersTimeoutMs: 30_000,
          maxHeaderSize: 16_384,
          workers: 1,
        },
        proxy: {
          connectionTimeoutMs: 30_000,
          connectTimeoutMs: 5_000,
          maxIdleConns: 100,
          idleConnTimeoutMs: 90_000,
          trustedProxies: [],
          maxInFlight: 10_000,
          allowUnderscoreHeaders: false,
          stripClientHeaders: [...DEFAULT_STRIP_CLIENT_HEADERS],
          websocketIdleTimeoutMs: 300_000,
          websocketMaxPerIp: 256,
        },
        loadBalancing: {
          algorithm: 'least-conn',
          healthCheckIntervalMs: 10_000,
          healthCheckTimeoutMs: 2_000,
          healthCheckFails: 2,
          healthCheckPasses: 1,
          passiveEjectFailures: 5,
          passiveEjectBaseMs: 30_000,
          stallTimeoutMs: 500,
        },
        resilience: {
          circuitBreakerMax: 5,
          circuitBreakerFailureRate: 50,
          circuitBreakerMinRequests: 20,
          circuitBreakerWindowMs: 10_000,
          failureStatuses: [502, 503, 504],
          circuitBreakerTimeoutMs: 30_000,
          retryAttempts: 3,
          retryBudgetPercent: 20,
          retryBaseDelayMs: 100,
          retryAfterCapMs: 5_000,
        },
        security: {
          maxRequestsPerSecond: 100,
          maxBurstSize: 200,
          ddosThreshold: 31000,
          blockDurationMs: 600_000,
          corsAllowedOrigins: [],
          corsAllowedMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
          corsAllowedHeaders: ['Authorization', 'Content-Type', 'X-API-Key', 'X-Request-Id'],
          corsExposedHeaders: ['X-Request-Id', 'RateLimit', 'RateLimit-Policy', 'Retry-After'],
          corsAllowCredentials: false,
          corsMaxAgeMs: 600_000,
          securityHeaders: true,
          maxBodyBytes: 10_485_760,
          maxHeaderCount: 100,
          ipWhitelist: [],
          ipBlacklist: [],
          rateLimitMaxKeys: 100_000,
          rateLimitFailClosed: false,
          rateLimitIpv6Prefix: 64,
          ownEndpointsRate: 20,
          ownEndpointsBurst: 100,
          allowTrace: false,
        },
        auth: {
          jwtAlgorithms: [],
          jwtIssuers: [],
          jwtAudiences: [],
          jwtClockToleranceMs: 30_000,
          jwtForwardClaims: [{ claim: 'sub', header: 'x-user-id' }],
          apiKeys: [],
          publicPaths: [],
        },
        cache: {
          enabled: true,
          ttlMs: 300_000,
          ttlExplicit: false,
          maxObjectBytes: 1_048_576,
          maxMemoryBytes: 67_108_864,
          compression: true,
          compressionMinBytes: 1024,
          staleOnErrorMs: 1_800_000,
        },
        redis: { sentinels: [], sentinelName: 'mymaster', clusterNodes: [] },
        log: {
          level: 'info',
          pretty: false,
          accessLogFields: [...ACCESS_LOG_FIELDS],
          accessLogRedactParams: [...DEFAULT_REDACTED_PARAMS],
        },
        observability: {
          tracing: { serviceName: 'nest-edge-gateway', sampleRatio: 1 },
          serverTiming: false,
          metricsCacheMs: 1_000,
        },
        admin: {},
        demoUpstream: true,
        noDashboard: false,
        configWatch: false,
        routes: [],
      });
      expect(warnings).toEqual([expect.stringMatching(/^no routes configured/)]);
    });

    it('should read every variable', () => {
      const { config } = loadOk({
        GATEWAY_PORT: '127.0.0.1:8080',
        SHUTDOWN_TIMEOUT: '0',
        KEEP_ALIVE_TIMEOUT: '75s',
        HEADERS_TIMEOUT: '20s',
        MAX_HEADER_SIZE: '32768',
        CONNECTION_TIMEOUT: '45s',
        UPSTREAM_CONNECT_TIMEOUT: '2s',
        MAX_IDLE_CONNS: '0',
        IDLE_CONN_TIMEOUT: '1m',
        TRUSTED_PROXIES: '10.0.0.0/8, 192.168.1.1',
        ALLOW_UNDERSCORE_HEADERS: 'true',
        STRIP_CLIENT_HEADERS: 'X-Forwarded-Prefix, x-internal-user',
        LOAD_BALANCING_ALGO: 'ip-hash',
        HEALTH_CHECK_INTERVAL: '500ms',
        HEALTH_CHECK_TIMEOUT: '250ms',
        HEALTH_CHECK_FAILS: '3',
        HEALTH_CHECK_PASSES: '2',
        PASSIVE_EJECT_FAILURES: '0',
        PASSIVE_EJECT_BASE: '5s',
        CIRCUIT_BREAKER_MAX: '3',
        CIRCUIT_BREAKER_TIMEOUT: '1m30s',
        RETRY_ATTEMPTS: '1',
        RETRY_BUDGET_PERCENT: '0',
        RETRY_BACKOFF: '250ms',
        RETRY_AFTER_CAP: '30s',
        MAX_REQUESTS_PER_SECOND: '50',
        MAX_BURST_SIZE: '60',
        DDOS_THRESHOLD: '5000',
        BLOCK_DURATION: '1h',
        JWT_SECRET: 'x'.repeat(40),
        CORS_ALLOWED_ORIGINS: '["https://app.example.com","*"]',
        IP_WHITELIST: '10.1.0.0/16',
        IP_BLACKLIST: '203.0.113.7 2001:db8::/32',
        RATE_LIMIT_MAX_KEYS: '5000',
        RATE_LIMIT_FAIL_CLOSED: 'true',
        ENABLE_CACHING: 'false',
        CACHE_TTL: '30s',
        ENABLE_COMPRESSION: '0',
        REDIS_URL: 'rediss://:secret@redis.internal:6380/1',
        LOG_LEVEL: 'DEBUG',
        DEMO_UPSTREAM: 'f',
        NO_DASHBOARD: '1',
        ROUTE_API_URL: 'http://10.0.0.5',
      });

      expect(config).toMatchObject({
        server: {
          host: '127.0.0.1',
          port: 8080,
          shutdownTimeoutMs: 0,
          keepAliveTimeoutMs: 75_000,
          headersTimeoutMs: 20_000,
          maxHeaderSize: 32_768,
        },
        proxy: {
          connectionTimeoutMs: 45_000,
          connectTimeoutMs: 2_000,
          maxIdleConns: 0,
          idleConnTimeoutMs: 60_000,
          trustedProxies: ['10.0.0.0/8', '192.168.1.1'],
          allowUnderscoreHeaders: true,
          stripClientHeaders: ['x-forwarded-prefix', 'x-internal-user'],
        },
        loadBalancing: {
          algorithm: 'ip-hash',
          healthCheckIntervalMs: 500,
          healthCheckTimeoutMs: 250,
          healthCheckFails: 3,
          healthCheckPasses: 2,
          passiveEjectFailures: 0,
          passiveEjectBaseMs: 5_000,
        },
        resilience: {
          circuitBreakerMax: 3,
          circuitBreakerTimeoutMs: 90_000,
          retryAttempts: 1,
          retryBudgetPercent: 0,
          retryBaseDelayMs: 250,
          retryAfterCapMs: 30_000,
        },
        security: {
          maxRequestsPerSecond: 50,
          maxBurstSize: 60,
          ddosThreshold: 5000,
          blockDurationMs: 3_600_000,
          corsAllowedOrigins: ['https://app.example.com', '*'],
          ipWhitelist: ['10.1.0.0/16'],
          ipBlacklist: ['203.0.113.7', '2001:db8::/32'],
          rateLimitMaxKeys: 5000,
          rateLimitFailClosed: true,
        },
        auth: { jwtSecret: 'x'.repeat(40), jwtAlgorithms: ['HS256'] },
        cache: { enabled: false, ttlMs: 30_000, compression: false },
        redis: { url: 'rediss://:secret@redis.internal:6380/1' },
        log: { level: 'debug', pretty: false },
        demoUpstream: false,
        noDashboard: true,
      });
    });

    it('should treat unset and blank variables as defaults', () => {
      const { config } = loadOk({
        CONNECTION_TIMEOUT: '',
        MAX_BURST_SIZE: '   ',
        GATEWAY_PORT: '',
      });

      expect(config.proxy.connectionTimeoutMs).toBe(30_000);
      expect(config.security.maxBurstSize).toBe(200);
      expect(config.server.port).toBe(9777);
    });

    it('should accept a bare port and an IPv6 listen address', () => {
      expect(loadOk({ GATEWAY_PORT: '9000' }).config.server).toMatchObject({
        host: '0.0.0.0',
        port: 9000,
      });
      expect(loadOk({ GATEWAY_PORT: '[::]:0' }).config.server).toMatchObject({
        host: '::',
        port: 0,
      });
    });

    it('should follow isTTY for pretty logs', () => {
      const cwd = mkdtempSync(join(tmpdir(), 'gateway-config-'));
      tmpDirs.push(cwd);
      const result = loadGatewayConfig({ env: {}, cwd, isTTY: true });

      expect(result.ok && result.config.log.pretty).toBe(true);
    });

    it('should accept Go and pino log level names case-insensitively', () => {
      expect(loadOk({ LOG_LEVEL: 'WARNING' }).config.log.level).toBe('warn');
      expect(loadOk({ LOG_LEVEL: 'Error' }).config.log.level).toBe('error');
      expect(loadOk({ LOG_LEVEL: 'silent' }).config.log.level).toBe('silent');
      expect(problemsOf({ LOG_LEVEL: 'verbose' })).toEqual([
        'LOG_LEVEL: unknown level "verbose" (expected trace|debug|info|warn|error|fatal|silent)',
      ]);
    });

    it('should read ACCESS_LOG_FIELDS as field names in any case and spelling, or all', () => {
      expect(
        loadOk({ ACCESS_LOG_FIELDS: 'status, user_agent PATH,path' }).config.log,
      ).toMatchObject({ accessLogFields: ['path', 'status', 'userAgent'] });
      expect(loadOk({ ACCESS_LOG_FIELDS: 'all' }).config.log.accessLogFields).toEqual([
        ...ACCESS_LOG_FIELDS,
      ]);
      expect(problemsOf({ ACCESS_LOG_FIELDS: 'status,usr_agent' })).toEqual([
        `ACCESS_LOG_FIELDS: unknown field "usr_agent" (did you mean userAgent?); known: ${ACCESS_LOG_FIELDS.join(', ')}, or all`,
      ]);
      expect(problemsOf({ ACCESS_LOG_FIELDS: ',' })).toEqual([
        'ACCESS_LOG_FIELDS: no field given (list field names, or all)',
      ]);
    });

    it('should read ACCESS_LOG_REDACT_PARAMS as lower-cased names, or none', () => {
      expect(loadOk({ ACCESS_LOG_REDACT_PARAMS: 'Token sig,token' }).config.log).toMatchObject({
        accessLogRedactParams: ['token', 'sig'],
      });
      expect(loadOk({ ACCESS_LOG_REDACT_PARAMS: 'none' }).config.log.accessLogRedactParams).toEqual(
        [],
      );
      expect(problemsOf({ ACCESS_LOG_REDACT_PARAMS: 'none,token' })).toEqual([
        'ACCESS_LOG_REDACT_PARAMS: "none" cannot be combined with parameter names',
      ]);
    });

    it('should read the access-log settings from the config file as lists', () => {
      const yaml = [
        'log:',
        '  access_log_fields: [status, path, cacheStatus]',
        '  access_log_redact_params: [ticket]',
        '',
      ].join('\n');
      const { config } = loadOk({ GATEWAY_CONFIG: 'gw.yaml' }, { 'gw.yaml': yaml });
      expect(config.log.accessLogFields).toEqual(['path', 'status', 'cacheStatus']);
      expect(config.log.accessLogRedactParams).toEqual(['ticket']);
    });

    it('should build a redis:// URL from REDIS_ADDR and leave Redis off by default', () => {
      expect(loadOk({ REDIS_ADDR: 'redis:6379' }).config.redis.url).toBe('redis://redis:6379');
      expect(loadOk({ REDIS_ADDR: ':6379' }).config.redis.url).toBe('redis://localhost:6379');
      expect(loadOk().config.redis.url).toBeUndefined();
    });

    it('should read the Redis password, sentinels and cluster nodes', () => {
      expect(
        loadOk({
          REDIS_URL: 'rediss://cache:6380/2',
          REDIS_PASSWORD: ' s3cret ',
          REDIS_SENTINELS: 's1:26379, s2:26379',
          REDIS_SENTINEL_NAME: 'gw',
        }).config.redis,
      ).toEqual({
        url: 'rediss://cache:6380/2',
        password: ' s3cret ',
        sentinels: [
          { host: 's1', port: 26379 },
          { host: 's2', port: 26379 },
        ],
        sentinelName: 'gw',
        clusterNodes: [],
      });
      expect(loadOk({ REDIS_CLUSTER_NODES: 'a:7000,b:7001' }).config.redis.clusterNodes).toEqual([
        { host: 'a', port: 7000 },
        { host: 'b', port: 7001 },
      ]);
      expect(problemsOf({ REDIS_SENTINELS: 'a:1', REDIS_CLUSTER_NODES: 'b:2' })).toEqual([
        'REDIS_SENTINELS: conflicts with REDIS_CLUSTER_NODES; set only one',
      ]);
      expect(problemsOf({ REDIS_CLUSTER_NODES: 'a' })).toEqual([
        expect.stringMatching(/^REDIS_CLUSTER_NODES: .*missing port/),
      ]);
    });

    it('should read the worker count, "auto" being one per CPU', () => {
      expect(loadOk({ GATEWAY_WORKERS: '3' }).config.server.workers).toBe(3);
      expect(loadOk({ GATEWAY_WORKERS: 'auto' }).config.server.workers).toBe(
        availableParallelism(),
      );
      expect(problemsOf({ GATEWAY_WORKERS: '0' })).toEqual([
        'GATEWAY_WORKERS: expected a number of workers (>= 1) or "auto", got "0"',
      ]);
    });

    it('should read the cache and compression sizes', () => {
      const { cache } = loadOk({
        CACHE_MAX_OBJECT_SIZE: '2048',
        CACHE_MAX_SIZE: '0',
        COMPRESSION_MIN_SIZE: '256',
      }).config;
      expect(cache).toMatchObject({
        maxObjectBytes: 2048,
        maxMemoryBytes: 0,
        compressionMinBytes: 256,
      });
      expect(problemsOf({ CACHE_MAX_OBJECT_SIZE: '0' })).toEqual([
        expect.stringMatching(/^CACHE_MAX_OBJECT_SIZE: /),
      ]);
    });

    it("should read the gateway's targeted cache-control field, lower-cased", () => {
      expect(loadOk({}).config.cache.targetedField).toBeUndefined();
      expect(
        loadOk({ CACHE_TARGETED_FIELD: 'Gateway-Cache-Control' }).config.cache.targetedField,
      ).toBe('gateway-cache-control');
      expect(loadOk({ CACHE_STALE_ON_ERROR: '0s' }).config.cache.staleOnErrorMs).toBe(0);
      expect(problemsOf({ CACHE_TARGETED_FIELD: 'bad name' })).toEqual([
        expect.stringMatching(/^CACHE_TARGETED_FIELD: not a header name/),
      ]);
      expect(problemsOf({ CACHE_TARGETED_FIELD: 'CDN-Cache-Control' })).toEqual([
        expect.stringMatching(/^CACHE_TARGETED_FIELD: .*read anyway/),
      ]);
    });

    it('should turn tracing on with an OTLP endpoint and read its sampling ratio', () => {
      expect(
        loadOk({
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318/',
          TRACE_SAMPLE_RATIO: '0.25',
          OTEL_SERVICE_NAME: 'edge',
        }).config.observability.tracing,
      ).toEqual({
        endpoint: 'http://jaeger:4318/v1/traces',
        serviceName: 'edge',
        sampleRatio: 0.25,
      });
      expect(
        loadOk({ JAEGER_ENDPOINT: 'http://jaeger:4318/v1/traces' }).config.observability.tracing
          .endpoint,
      ).toBe('http://jaeger:4318/v1/traces');
      expect(problemsOf({ TRACE_SAMPLE_RATIO: '2' })).toEqual([
        'TRACE_SAMPLE_RATIO: expected a ratio between 0 and 1, got "2"',
      ]);
      expect(problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://jaeger:4317' })).toEqual([
        'OTEL_EXPORTER_OTLP_ENDPOINT: unsupported scheme "grpc:" (OTLP over HTTP needs http: or https:)',
      ]);
      expect(loadOk({ SERVER_TIMING: 'true' }).config.observability.serverTiming).toBe(true);
    });

    it('should read the admin token and port, refusing short tokens', () => {
      const token = 'a'.repeat(32);
      expect(loadOk({ ADMIN_TOKEN: token, ADMIN_PORT: '9778' }).config.admin).toEqual({
        token,
        listen: { host: '127.0.0.1', port: 9778 },
      });
      expect(loadOk({ ADMIN_PORT: '0.0.0.0:9778' }).config.admin.listen).toEqual({
        host: '0.0.0.0',
        port: 9778,
      });
      expect(problemsOf({ ADMIN_TOKEN: 'short' })).toEqual([
        'ADMIN_TOKEN: shorter than 32 characters; use a random token (e.g. `openssl rand -hex 32`)',
      ]);
      expect(problemsOf({ GATEWAY_PORT: '9777', ADMIN_PORT: '9777' })).toEqual([
        'ADMIN_PORT: must differ from GATEWAY_PORT (9777): the admin API has a listener of its own',
      ]);
      // Same port on two different addresses binds fine.
      expect(
        loadOk({ GATEWAY_PORT: '10.0.0.5:9777', ADMIN_PORT: '127.0.0.1:9777' }).config.admin.listen,
      ).toEqual({ host: '127.0.0.1', port: 9777 });
    });

    it('should reject conflicting or invalid Redis settings', () => {
      expect(problemsOf({ REDIS_URL: 'redis://a:6379', REDIS_ADDR: 'b:6379' })).toEqual([
        'REDIS_URL: conflicts with REDIS_ADDR; set only one',
      ]);
      expect(problemsOf({ REDIS_URL: 'http://redis:6379' })).toEqual([
        'REDIS_URL: unsupported scheme "http:" (expected redis: or rediss:)',
      ]);
      expect(problemsOf({ REDIS_ADDR: 'redis' })).toEqual([
        'REDIS_ADDR: invalid address "redis" (missing port, e.g. ":9777")',
      ]);
    });

    it('should treat any non-empty NO_DASHBOARD as set, and warn when it looks like false', () => {
      const { config, warnings } = loadOk({ NO_DASHBOARD: 'false' });

      expect(config.noDashboard).toBe(true);
      expect(warnings).toContainEqual(expect.stringMatching(/^NO_DASHBOARD="false" disables/));
    });

    it('should reject the Go placeholder JWT secret and warn about short ones', () => {
      expect(problemsOf({ JWT_SECRET: 'your-secret-key-change-in-production' })).toEqual([
        expect.stringMatching(/^JWT_SECRET: is the public placeholder from the Go gateway/),
      ]);
      expect(loadOk({ JWT_SECRET: 'short' }).warnings).toContainEqual(
        'JWT_SECRET: shorter than 32 bytes; HS256 keys should have at least 256 bits',
      );
    });

    it('should keep JWT_SECRET verbatim, including surrounding spaces', () => {
      const secret = ` ${'s'.repeat(40)} `;

      expect(loadOk({ JWT_SECRET: secret }).config.auth.jwtSecret).toBe(secret);
    });

    it('should refuse routes that require auth when no credential is configured', () => {
      expect(problemsOf({ ROUTE_API_URL: 'h:1', ROUTE_API_REQUIRE_AUTH: 'true' })).toEqual([
        'routes: api require authentication but no credential is configured (set JWT_SECRET, JWT_PUBLIC_KEY, JWT_PUBLIC_KEY_FILE, JWKS_URL or API_KEYS_FILE)',
      ]);
    });

    it('should refuse ENABLE_VXCLOUD_DEFAULT_ROUTES=true instead of ignoring it', () => {
      expect(loadOk({ ENABLE_VXCLOUD_DEFAULT_ROUTES: 'false' }).config.routes).toEqual([]);
      expect(problemsOf({ ENABLE_VXCLOUD_DEFAULT_ROUTES: 'true' })).toEqual([
        expect.stringMatching(
          /^ENABLE_VXCLOUD_DEFAULT_ROUTES: the built-in VxCloud routes were removed/,
        ),
      ]);
    });

    it('should validate CORS_ALLOWED_ORIGINS as a JSON array of origins', () => {
      expect(problemsOf({ CORS_ALLOWED_ORIGINS: 'https://a.example.com' })).toEqual([
        expect.stringMatching(/^CORS_ALLOWED_ORIGINS: invalid JSON \(.*\); expected an array/),
      ]);
      expect(problemsOf({ CORS_ALLOWED_ORIGINS: '{"a":1}' })).toEqual([
        'CORS_ALLOWED_ORIGINS: expected a JSON array of origin strings, e.g. ["https://app.example.com"]',
      ]);
      expect(problemsOf({ CORS_ALLOWED_ORIGINS: '["https://a.example.com/", "nope"]' })).toEqual([
        'CORS_ALLOWED_ORIGINS: invalid origin "https://a.example.com/" (expected scheme://host[:port]; did you mean "https://a.example.com"?)',
        'CORS_ALLOWED_ORIGINS: invalid origin "nope" (expected scheme://host[:port])',
      ]);
    });

    it('should report every bad value at once, one line each, naming the variable', () => {
      const problems = problemsOf({
        GATEWAY_PORT: '99999',
        CONNECTION_TIMEOUT: '10',
        HEALTH_CHECK_INTERVAL: '0s',
        BLOCK_DURATION: '-1m',
        CACHE_TTL: '600h',
        MAX_BURST_SIZE: '0',
        CIRCUIT_BREAKER_MAX: '0',
        MAX_IDLE_CONNS: '-1',
        DDOS_THRESHOLD: '1e3',
        ENABLE_CACHING: 'yes',
        LOAD_BALANCING_ALGO: 'fastest',
        TRUSTED_PROXIES: '10.0.0.0/33,proxy.local',
        STRIP_CLIENT_HEADERS: 'x-ok, bad header:',
        IP_WHITELIST: '1.2.3.4/99',
      });

      expect(problems).toEqual([
        'GATEWAY_PORT: invalid port "99999" (expected 0-65535)',
        'CONNECTION_TIMEOUT: invalid duration "10" (missing unit, e.g. "10s")',
        'MAX_IDLE_CONNS: must be >= 0, got -1',
        'TRUSTED_PROXIES: invalid CIDR "10.0.0.0/33" (prefix length must be 0-32 for IPv4)',
        'TRUSTED_PROXIES: invalid IP address or CIDR "proxy.local"',
        'STRIP_CLIENT_HEADERS: invalid header name "header:"',
        'LOAD_BALANCING_ALGO: unknown algorithm "fastest" (expected round-robin|least-conn|ip-hash|weighted)',
        'HEALTH_CHECK_INTERVAL: must be > 0, got "0s"',
        'CIRCUIT_BREAKER_MAX: must be >= 1, got 0',
        'MAX_BURST_SIZE: must be >= 1, got 0',
        'DDOS_THRESHOLD: invalid integer "1e3"',
        'BLOCK_DURATION: must be > 0, got "-1m"',
        'IP_WHITELIST: invalid CIDR "1.2.3.4/99" (prefix length must be 0-32 for IPv4)',
        'ENABLE_CACHING: invalid boolean "yes" (expected true or false)',
        'CACHE_TTL: must be at most 596h31m23.647s, got "600h"',
      ]);
    });

    it("should warn about a route for any host that shares paths with the gateway's own", () => {
      const shadow = (env: Record<string, string>) =>
        loadOk(env).warnings.filter((w) => w.includes('with the gateway'));
      const routes = JSON.stringify([
        { name: 'web', prefix: '/', target_url: 'h:1' },
        { name: 'api', prefix: '/api', target_url: 'h:2' },
        { name: 'users', prefix: '/api/users', target_url: 'h:3' },
        { name: 'billing', host: 'billing.example.com', prefix: '/', target_url: 'h:4' },
        { name: 'probe', prefix: '/health', target_url: 'h:5' },
      ]);

      expect(shadow({ SERVICE_ROUTES: routes })).toEqual([
        'route "web" (prefix "/", any host) shares /health*, /metrics, /stats, /monitor*, /api/system-metrics, /admin*, /docs*, /docs-json with the gateway, which answers them itself on hosts no host route claims; give the route a host to serve them from its upstream, or set ADMIN_PORT (the public port then keeps only /health/live and /health/ready)',
        'route "api" (prefix "/api", any host) shares /api/system-metrics with the gateway, which answers them itself on hosts no host route claims; give the route a host to serve them from its upstream, or set ADMIN_PORT (the public port then keeps only /health/live and /health/ready)',
        'route "probe" (prefix "/health", any host) shares /health* with the gateway, which answers them itself on hosts no host route claims; give the route a host to serve them from its upstream, or set ADMIN_PORT (the public port then keeps only /health/live and /health/ready)',
      ]);
      // With ADMIN_PORT only the probes stay, and only a route after /health is told.
      expect(
        shadow({ SERVICE_ROUTES: routes, ADMIN_PORT: '9100', ADMIN_TOKEN: 'a'.repeat(40) }),
      ).toEqual([
        'route "probe" (prefix "/health", any host) shares /health/live, /health/ready with the gateway, which keeps them on the public port for load balancers; give the route a host to serve them from its upstream',
      ]);
    });

    it('should derive the flood threshold from the bucket, well above what it admits', () => {
      expect(loadOk().config.security.ddosThreshold).toBe(5 * (60 * 100 + 200));
      expect(
        loadOk({ MAX_REQUESTS_PER_SECOND: '1000', MAX_BURST_SIZE: '2000' }).config.security
          .ddosThreshold,
      ).toBe(5 * (60 * 1000 + 2000));
      expect(loadOk({ DDOS_THRESHOLD: '50000' }).config.security.ddosThreshold).toBe(50000);
    });

    it('should warn, with the fix, about a flood threshold below what the bucket admits', () => {
      const flood = (warnings: string[]) =>
        warnings.filter((w) => w.includes('ddos_threshold') || w.startsWith('DDOS'));
      const { config, warnings } = loadOk({ DDOS_THRESHOLD: '1000' });

      expect(config.security.ddosThreshold).toBe(1000);
      expect(flood(warnings)).toEqual([
        "DDOS_THRESHOLD: 1000 requests a minute is below what a client's rate limit admits (MAX_REQUESTS_PER_SECOND=100 and MAX_BURST_SIZE=200: 6200 a minute), so clients inside their limit get blocked for BLOCK_DURATION (behind a load balancer without TRUSTED_PROXIES, every client at once); set it to at least 6200 (unset, it is 31000)",
      ]);
      expect(flood(loadOk({ DDOS_THRESHOLD: '6200' }).warnings)).toEqual([]);
      const file =
        'security:\n  ddos_threshold: 100\n  max_requests_per_second: 10\n  max_burst_size: 10\n';
      expect(flood(loadOk({ GATEWAY_CONFIG: 'gw.yaml' }, { 'gw.yaml': file }).warnings)).toEqual([
        expect.stringMatching(
          /^gw\.yaml: security\.ddos_threshold: 100 requests a minute .* 610 a minute/,
        ),
      ]);
    });

    it('should bound the retry settings', () => {
      const problems = problemsOf({
        RETRY_ATTEMPTS: '0',
        RETRY_BUDGET_PERCENT: '101',
        RETRY_BACKOFF: '0s',
        RETRY_AFTER_CAP: '5',
      });

      expect(problems).toEqual([
        'RETRY_ATTEMPTS: must be >= 1, got 0',
        'RETRY_BUDGET_PERCENT: must be <= 100, got 101',
        'RETRY_BACKOFF: must be > 0, got "0s"',
        'RETRY_AFTER_CAP: invalid duration "5" (missing unit, e.g. "5s")',
      ]);
      expect(problemsOf({ RETRY_BUDGET_PERCENT: '-1' })).toEqual([
        'RETRY_BUDGET_PERCENT: must be >= 0, got -1',
      ]);
    });

    it('should read and bound the retry settings from the file', () => {
      const file = (lines: string[]) => ({ 'gw.yaml': ['resilience:', ...lines, ''].join('\n') });

      const { config } = loadOk(
        { GATEWAY_CONFIG: 'gw.yaml' },
        file([
          '  retry_attempts: 2',
          '  retry_budget_percent: 50',
          '  retry_backoff: 50ms',
          '  retry_after_cap: 1s',
        ]),
      );
      expect(config.resilience).toMatchObject({
        retryAttempts: 2,
        retryBudgetPercent: 50,
        retryBaseDelayMs: 50,
        retryAfterCapMs: 1_000,
      });
      expect(
        problemsOf(
          { GATEWAY_CONFIG: 'gw.yaml' },
          file(['  retry_attempts: 0', '  retry_budget_percent: 101']),
        ),
      ).toEqual([
        'gw.yaml: resilience.retry_attempts: must be >= 1',
        'gw.yaml: resilience.retry_budget_percent: must be <= 100',
      ]);
    });

    it('should read the edge settings for own endpoints, IPv6 networks, TRACE and WebSockets from the environment and the file', () => {
      const env = {
        OWN_ENDPOINTS_RATE: '5',
        OWN_ENDPOINTS_BURST: '7',
        RATE_LIMIT_IPV6_PREFIX: '56',
        ALLOW_TRACE: 'true',
        WEBSOCKET_IDLE_TIMEOUT: '0',
        WEBSOCKET_MAX_PER_IP: '3',
        METRICS_CACHE_TTL: '0',
      };
      const expected = {
        security: {
          ownEndpointsRate: 5,
          ownEndpointsBurst: 7,
          rateLimitIpv6Prefix: 56,
          allowTrace: true,
        },
        proxy: { websocketIdleTimeoutMs: 0, websocketMaxPerIp: 3 },
        observability: { metricsCacheMs: 0 },
      };
      expect(loadOk(env).config).toMatchObject(expected);
      const file = [
        'security:',
        '  own_endpoints_rate: 5',
        '  own_endpoints_burst: 7',
        '  rate_limit_ipv6_prefix: 56',
        '  allow_trace: true',
        'proxy:',
        '  websocket_idle_timeout: "0"',
        '  websocket_max_per_ip: 3',
        'observability:',
        '  metrics_cache_ttl: "0"',
        '',
      ].join('\n');
      expect(loadOk({ GATEWAY_CONFIG: 'gw.yaml' }, { 'gw.yaml': file }).config).toMatchObject(
        expected,
      );
      expect(problemsOf({ RATE_LIMIT_IPV6_PREFIX: '129', OWN_ENDPOINTS_RATE: '0' }).sort()).toEqual(
        [
          'OWN_ENDPOINTS_RATE: must be >= 1, got 0',
          'RATE_LIMIT_IPV6_PREFIX: must be <= 128, got 129',
        ],
      );
      expect(
        problemsOf(
          { GATEWAY_CONFIG: 'gw.yaml' },
          { 'gw.yaml': 'security:\n  rate_limit_ipv6_prefix: 0\n' },
        ),
      ).toEqual(['gw.yaml: security.rate_limit_ipv6_prefix: must be >= 1']);
    });
  });

  describe('failure classification, breaker, stall and drain settings', () => {
    const file = (yaml: string[]) => ({ 'gw.yaml': [...yaml, ''].join('\n') });

    it('should read them from the environment', () => {
      const { config } = loadOk({
        CIRCUIT_BREAKER_FAILURE_STATUSES: '503, 500 429',
        CIRCUIT_BREAKER_FAILURE_RATE: '25',
        CIRCUIT_BREAKER_MIN_REQUESTS: '50',
        CIRCUIT_BREAKER_WINDOW: '30s',
        UPSTREAM_STALL_TIMEOUT: '2s',
        SHUTDOWN_DELAY: '5s',
      });
      expect(config.resilience).toMatchObject({
        failureStatuses: [503, 500, 429],
        circuitBreakerFailureRate: 25,
        circuitBreakerMinRequests: 50,
        circuitBreakerWindowMs: 30_000,
      });
      expect(config.loadBalancing.stallTimeoutMs).toBe(2_000);
      expect(config.server.shutdownDelayMs).toBe(5_000);
    });

    it('should take "none" as no failure status, and 0 to turn the rate and the stall check off', () => {
      const { config } = loadOk({
        CIRCUIT_BREAKER_FAILURE_STATUSES: 'none',
        CIRCUIT_BREAKER_FAILURE_RATE: '0',
        UPSTREAM_STALL_TIMEOUT: '0s',
      });
      expect(config.resilience.failureStatuses).toEqual([]);
      expect(config.resilience.circuitBreakerFailureRate).toBe(0);
      expect(config.loadBalancing.stallTimeoutMs).toBe(0);
    });

    it('should read them from the file, an empty list meaning none', () => {
      const { config } = loadOk(
        { GATEWAY_CONFIG: 'gw.yaml' },
        file([
          'server:',
          '  shutdown_delay: 3s',
          'load_balancing:',
          '  upstream_stall_timeout: 1s',
          'resilience:',
          '  circuit_breaker_failure_statuses: []',
          '  circuit_breaker_failure_rate: 60',
          '  circuit_breaker_min_requests: 10',
          '  circuit_breaker_window: 1m',
        ]),
      );
      expect(config.server.shutdownDelayMs).toBe(3_000);
      expect(config.loadBalancing.stallTimeoutMs).toBe(1_000);
      expect(config.resilience).toMatchObject({
        failureStatuses: [],
        circuitBreakerFailureRate: 60,
        circuitBreakerMinRequests: 10,
        circuitBreakerWindowMs: 60_000,
      });
      const listed = loadOk(
        { GATEWAY_CONFIG: 'gw.yaml' },
        file(['resilience:', '  circuit_breaker_failure_statuses: [500, 503]']),
      );
      expect(listed.config.resilience.failureStatuses).toEqual([500, 503]);
    });

    it('should report bad values, from the environment and the file', () => {
      expect(
        problemsOf({
          CIRCUIT_BREAKER_FAILURE_STATUSES: '503,200',
          CIRCUIT_BREAKER_FAILURE_RATE: '101',
          CIRCUIT_BREAKER_MIN_REQUESTS: '0',
          CIRCUIT_BREAKER_WINDOW: '0s',
          SHUTDOWN_DELAY: '5',
        }),
      ).toEqual([
        'SHUTDOWN_DELAY: invalid duration "5" (missing unit, e.g. "5s")',
        'CIRCUIT_BREAKER_FAILURE_RATE: must be <= 100, got 101',
        'CIRCUIT_BREAKER_MIN_REQUESTS: must be >= 1, got 0',
        'CIRCUIT_BREAKER_WINDOW: must be > 0, got "0s"',
        'CIRCUIT_BREAKER_FAILURE_STATUSES: invalid status "200" (expected HTTP statuses 400-599, or none)',
      ]);
      expect(
        problemsOf(
          { GATEWAY_CONFIG: 'gw.yaml' },
          file(['resilience:', '  circuit_breaker_failure_statuses: [503, 302]']),
        ),
      ).toEqual([
        'gw.yaml: resilience.circuit_breaker_failure_statuses[1]: expected an HTTP status 400-599',
      ]);
    });

    it("should add a route's failure_statuses from every route source", () => {
      const { config } = loadOk(
        {
          GATEWAY_CONFIG: 'gw.yaml',
          SERVICE_ROUTES: JSON.stringify([
            { name: 'svc', prefix: '/svc', target_url: 'http://s:1', failure_statuses: [429] },
          ]),
          ROUTE_ENV_URL: 'http://e:1',
          ROUTE_ENV_FAILURE_STATUSES: '500,408',
        },
        file([
          'routes:',
          '  - name: file',
          '    prefix: /file',
          '    target_url: http://f:1',
          '    failure_statuses: [500]',
          '  - name: plain',
          '    prefix: /plain',
          '    target_url: http://p:1',
        ]),
      );
      const byName = Object.fromEntries(config.routes.map((r) => [r.name, r.failureStatuses]));
      expect(byName).toEqual({ file: [500], plain: undefined, svc: [429], env: [500, 408] });
      expect(problemsOf({ ROUTE_X_URL: 'http://x:1', ROUTE_X_FAILURE_STATUSES: 'none' })).toEqual([
        'ROUTE_X_FAILURE_STATUSES: invalid status "none" (expected HTTP statuses 400-599)',
      ]);
    });

    it("should read an upstream's own failure_statuses from the object form of targets", () => {
      const { config } = loadOk(
        { GATEWAY_CONFIG: 'gw.yaml' },
        file([
          'routes:',
          '  - name: mixed',
          '    prefix: /',
          '    targets:',
          '      - http://a:1',
          '      - url: http://b:1',
          '        failure_statuses: [500]',
          '    weights: [2, 3]',
        ]),
      );
      expect(config.routes[0].upstreams).toEqual([
        { url: 'http://a:1', weight: 2 },
        { url: 'http://b:1', weight: 3, failureStatuses: [500] },
      ]);
      expect(
        problemsOf(
          { GATEWAY_CONFIG: 'gw.yaml' },
          file([
            'routes:',
            '  - prefix: /',
            '    targets:',
            '      - url: http://b:1',
            '        failure_statuses: [200]',
            '      - { url: http://c:1, retries: 2 }',
          ]),
        ),
      ).toEqual([
        'gw.yaml: routes[0].targets[0].failure_statuses[0]: expected an HTTP status 400-599',
        'gw.yaml: routes[0].targets[1].retries: unknown key',
      ]);
    });

    it('should tell an explicit CACHE_TTL (environment, .env or file) from the default', () => {
      expect(loadOk().config.cache.ttlExplicit).toBe(false);
      expect(loadOk({ CACHE_TTL: '1m' }).config.cache.ttlExplicit).toBe(true);
      expect(loadOk({}, { '.env': 'CACHE_TTL=2m\n' }).config.cache).toMatchObject({
        ttlMs: 120_000,
        ttlExplicit: true,
      });
      expect(
        loadOk({ GATEWAY_CONFIG: 'gw.yaml' }, file(['cache:', '  cache_ttl: 30s'])).config.cache,
      ).toMatchObject({ ttlMs: 30_000, ttlExplicit: true });
    });
  });

  describe('.env', () => {
    it('should read <cwd>/.env with real variables taking precedence', () => {
      const { config } = loadOk(
        { MAX_BURST_SIZE: '7' },
        { '.env': 'MAX_BURST_SIZE=99\nLOG_LEVEL=debug\n# comment\nCACHE_TTL="1m"\n' },
      );

      expect(config.security.maxBurstSize).toBe(7);
      expect(config.log.level).toBe('debug');
      expect(config.cache.ttlMs).toBe(60_000);
    });

    it('should let a real but empty variable blank out a .env value, like godotenv', () => {
      const { config } = loadOk({ LOG_LEVEL: '' }, { '.env': 'LOG_LEVEL=debug\n' });

      expect(config.log.level).toBe('info');
    });

    it('should read routes and GATEWAY_CONFIG from .env', () => {
      const routes = routesOf(
        {},
        {
          '.env': 'ROUTE_WEB_URL=10.0.0.9:80\nGATEWAY_CONFIG=gw.yaml\n',
          'gw.yaml': 'routes:\n  - name: api\n    prefix: /api\n    target_url: h:1\n',
        },
      );

      expect(routes.map((route) => route.name)).toEqual(['api', 'web']);
    });

    it('should name .env values by variable in problems', () => {
      expect(problemsOf({}, { '.env': 'CONNECTION_TIMEOUT=30\n' })).toEqual([
        'CONNECTION_TIMEOUT: invalid duration "30" (missing unit, e.g. "30s")',
      ]);
    });
  });

  describe('SERVICE_ROUTES', () => {
    it('should match keys case-insensitively and apply the JSON defaults', () => {
      const routes = routesOf({
        CONNECTION_TIMEOUT: '45s',
        SERVICE_ROUTES: JSON.stringify([
          { NAME: 'Users', Prefix: '/api/users', TARGET_URL: '10.0.0.5:8080', Timeout_Secs: 0 },
        ]),
      });

      expect(routes).toEqual<RouteConfig[]>([
        {
          name: 'users',
          host: '',
          prefix: '/api/users',
          upstreams: [{ url: 'http://10.0.0.5:8080', weight: 1 }],
          stripPrefix: false,
          requireAuth: false,
          timeoutMs: 45_000,
          preserveHost: false,
        },
      ]);
    });

    it('should read every route field', () => {
      const [route] = routesOf({
        SERVICE_ROUTES: JSON.stringify([
          {
            name: 'llm',
            host: 'API.Example.com:443',
            prefix: '/api/llm',
            target_url: 'https://llm.internal/v1',
            targets: ['llm2.internal:8080'],
            strip_prefix: true,
            require_auth: true,
            weight: 2,
            weights: [5],
            timeout_secs: 120,
            health_path: '/healthz',
            preserve_host: true,
            algorithm: 'weighted',
          },
        ]),
        JWT_SECRET: 'k'.repeat(32),
      });

      expect(route).toEqual<RouteConfig>({
        name: 'llm',
        host: 'api.example.com',
        prefix: '/api/llm',
        upstreams: [
          { url: 'https://llm.internal/v1', weight: 5 },
          { url: 'http://llm2.internal:8080', weight: 2 },
        ],
        stripPrefix: true,
        requireAuth: true,
        timeoutMs: 120_000,
        healthPath: '/healthz',
        preserveHost: true,
        algorithm: 'weighted',
      });
    });

    it('should treat null fields as unset, like Go zero values', () => {
      const [route] = routesOf({
        SERVICE_ROUTES: '[{"prefix":"/a","target_url":"h:1","host":null,"weights":null}]',
      });

      expect(route).toMatchObject({ host: '', prefix: '/a' });
    });

    it('should derive unique names for unnamed routes', () => {
      const routes = routesOf({
        SERVICE_ROUTES: JSON.stringify([
          { prefix: '/api/users', target_url: 'h:1' },
          { host: '*.example.com', target_url: 'h:2' },
          { target_url: 'h:3' },
          { name: 'api-v1', prefix: '/x', target_url: 'h:4' },
          { prefix: '/api/v1', target_url: 'h:5' },
        ]),
      });

      expect(routes.map((route) => route.name)).toEqual([
        'api-users',
        'wildcard-example-com',
        'root',
        'api-v1',
        'api-v1-2',
      ]);
    });

    it('should report bad JSON and non-array values', () => {
      expect(problemsOf({ SERVICE_ROUTES: '[{"prefix": "/a",}]' })).toEqual([
        expect.stringMatching(/^SERVICE_ROUTES: invalid JSON \(/),
      ]);
      expect(problemsOf({ SERVICE_ROUTES: '{"prefix": "/a"}' })).toEqual([
        expect.stringMatching(/^SERVICE_ROUTES: expected a JSON array of routes/),
      ]);
    });

    it('should report unknown keys, type errors and bad upstreams per field, all at once', () => {
      const problems = problemsOf({
        SERVICE_ROUTES: JSON.stringify([
          { name: 'a', prefix: '/a', target_url: 'ftp://x', targt: 'h:1' },
          { name: 'b', prefix: '/b', targets: ['h:1', 5], weight: 1.5 },
          'not an object',
          { name: 'd', prefix: '/d', Name: 'dd', target_url: 'h:1' },
          { name: 'e', prefix: 'e', target_url: 'h:1', algorithm: 'fastest' },
        ]),
      });

      expect(problems).toEqual([
        'SERVICE_ROUTES[0].targt: unknown key (did you mean "targets"?)',
        'SERVICE_ROUTES[1].targets[1]: expected an upstream URL, or {url, failure_statuses}',
        'SERVICE_ROUTES[1].weight: expected int, received number',
        'SERVICE_ROUTES[2]: expected a JSON object',
        'SERVICE_ROUTES[3].Name: duplicates "name" (keys are case-insensitive)',
        'SERVICE_ROUTES[4].algorithm: unknown algorithm "fastest" (expected round-robin|least-conn|ip-hash|weighted)',
        'SERVICE_ROUTES[0].target_url: invalid upstream URL "ftp://x" (scheme must be http or https, not ftp)',
        'SERVICE_ROUTES[4].prefix: invalid prefix "e" (expected a path starting with "/", without query or spaces)',
      ]);
    });
  });

  describe('auth and hide_credentials', () => {
    const secret = { JWT_SECRET: 'x'.repeat(40) };

    it('should read the methods of a route from the file and the environment', () => {
      const routes = routesOf({
        ...secret,
        ADMIN_TOKEN: 'a'.repeat(40),
        SERVICE_ROUTES: JSON.stringify([
          {
            name: 'keys',
            prefix: '/k',
            target_url: 'h:1',
            require_auth: true,
            auth: ['api_key'],
            hide_credentials: true,
          },
          { name: 'any', prefix: '/a', target_url: 'h:1', require_auth: true },
        ]),
        ROUTE_JWT_URL: 'h:2',
        ROUTE_JWT_REQUIRE_AUTH: 'true',
        ROUTE_JWT_AUTH: 'JWT',
        ROUTE_JWT_HIDE_CREDENTIALS: 'true',
      });

      expect(routes.map((r) => [r.name, r.auth, r.hideCredentials])).toEqual([
        ['keys', ['api_key'], true],
        ['any', undefined, undefined],
        ['jwt', ['jwt'], true],
      ]);
    });

    it('should refuse an empty, repeated or unknown method, and auth without require_auth', () => {
      const problems = problemsOf({
        ...secret,
        SERVICE_ROUTES: JSON.stringify([
          { name: 'a', prefix: '/a', target_url: 'h:1', require_auth: true, auth: [] },
          { name: 'b', prefix: '/b', target_url: 'h:1', require_auth: true, auth: ['jwt', 'jwt'] },
          { name: 'c', prefix: '/c', target_url: 'h:1', require_auth: true, auth: ['oauth'] },
          { name: 'd', prefix: '/d', target_url: 'h:1', auth: ['jwt'] },
        ]),
        ROUTE_E_URL: 'h:1',
        ROUTE_E_REQUIRE_AUTH: 'true',
        ROUTE_E_AUTH: 'jwt,basic',
      });

      expect(problems).toEqual([
        'SERVICE_ROUTES[2].auth[0]: expected one of jwt|api_key',
        'ROUTE_E_AUTH: unknown auth method "basic" (expected jwt|api_key)',
        'SERVICE_ROUTES[0].auth: list at least one method (jwt, api_key)',
        'SERVICE_ROUTES[1].auth: lists a method twice: ["jwt","jwt"]',
        'SERVICE_ROUTES[3].auth: chooses the credentials of a require_auth route; set require_auth: true, or remove it',
      ]);
    });

    it('should refuse a route whose only methods cannot be verified', () => {
      const route = (auth: string[]) =>
        JSON.stringify([{ name: 'r', prefix: '/', target_url: 'h:1', require_auth: true, auth }]);

      expect(problemsOf({ ...secret, SERVICE_ROUTES: route(['api_key']) })).toEqual([
        'routes: r accepts only api_key but none can be verified (set API_KEYS_FILE, REDIS_URL or ADMIN_TOKEN)',
      ]);
      expect(problemsOf({ ADMIN_TOKEN: 'a'.repeat(40), SERVICE_ROUTES: route(['jwt']) })).toEqual([
        'routes: r accepts only jwt but none can be verified (set JWT_SECRET, JWT_PUBLIC_KEY, JWT_PUBLIC_KEY_FILE or JWKS_URL)',
      ]);
      // Keys created through the admin API are a credential source.
      expect(
        loadOk({ ADMIN_TOKEN: 'a'.repeat(40), SERVICE_ROUTES: route(['api_key']) }).config.routes,
      ).toHaveLength(1);
    });
  });

  describe('security_headers', () => {
    it("should read a route's choices and refuse values that are not header values", () => {
      const [route] = routesOf({
        SERVICE_ROUTES: JSON.stringify([
          {
            prefix: '/',
            target_url: 'h:1',
            security_headers: {
              content_security_policy: "default-src 'self'",
              x_frame_options: false,
              referrer_policy: true,
            },
          },
        ]),
      });
      expect(route.securityHeaders).toEqual({
        content_security_policy: "default-src 'self'",
        x_frame_options: false,
        referrer_policy: true,
      });

      expect(
        problemsOf({
          SERVICE_ROUTES: JSON.stringify([
            {
              prefix: '/',
              target_url: 'h:1',
              security_headers: {
                x_frame_options: 'DENY\r\nSet-Cookie: a=b',
                csp: 'x',
                referrer_policy: '',
              },
            },
          ]),
        }),
      ).toEqual([
        'SERVICE_ROUTES[0].security_headers.x_frame_options: expected a header value: printable ASCII, no line breaks',
        'SERVICE_ROUTES[0].security_headers.referrer_policy: expected a header value: printable ASCII, no line breaks',
        'SERVICE_ROUTES[0].security_headers.csp: unknown key',
      ]);
    });
  });

  describe('ROUTE_<NAME>_<SUFFIX>', () => {
    it('should build routes with underscored names, sorted by name, with the env defaults', () => {
      const routes = routesOf({
        ROUTE_MY_API_URL: 'http://10.0.0.5:8080',
        ROUTE_MY_API_PREFIX: '/api',
        ROUTE_ADMIN_TARGETS: 'a:1, b:2\nc:3',
        ROUTE_ADMIN_PREFIX: '/admin',
      });

      expect(routes).toEqual<RouteConfig[]>([
        {
          name: 'admin',
          host: '',
          prefix: '/admin',
          upstreams: [
            { url: 'http://a:1', weight: 1 },
            { url: 'http://b:2', weight: 1 },
            { url: 'http://c:3', weight: 1 },
          ],
          stripPrefix: true,
          requireAuth: false,
          timeoutMs: 30_000,
          preserveHost: false,
        },
        {
          name: 'my_api',
          host: '',
          prefix: '/api',
          upstreams: [{ url: 'http://10.0.0.5:8080', weight: 1 }],
          stripPrefix: true,
          requireAuth: false,
          timeoutMs: 30_000,
          preserveHost: false,
        },
      ]);
    });

    it('should pick the longest suffix, so ROUTE_X_STRIP_PREFIX belongs to route X', () => {
      const [route] = routesOf({
        ROUTE_X_URL: 'h:1',
        ROUTE_X_STRIP_PREFIX: 'false',
        ROUTE_X_PREFIX: '/x',
        ROUTE_X_PRESERVE_HOST: 'T',
        ROUTE_X_REQUIRE_AUTH: '1',
        ROUTE_X_HOST: 'X.example.com.',
        ROUTE_X_HEALTH_PATH: '/health',
        ROUTE_X_TIMEOUT_SECS: '5',
        ROUTE_X_WEIGHT: '4',
        ROUTE_X_ALGORITHM: 'Round-Robin',
        JWT_SECRET: 'k'.repeat(32),
      });

      expect(route).toEqual<RouteConfig>({
        name: 'x',
        host: 'x.example.com',
        prefix: '/x',
        upstreams: [{ url: 'http://h:1', weight: 4 }],
        stripPrefix: false,
        requireAuth: true,
        timeoutMs: 5_000,
        healthPath: '/health',
        preserveHost: true,
        algorithm: 'round-robin',
      });
    });

    it('should ignore empty ROUTE_ variables', () => {
      expect(routesOf({ ROUTE_X_URL: 'h:1', ROUTE_X_PREFIX: '', ROUTE_Y_URL: '' })).toEqual([
        expect.objectContaining({ name: 'x', prefix: '/' }),
      ]);
    });

    it('should report unknown suffixes, missing upstreams and bad values', () => {
      const problems = problemsOf({
        ROUTE_X_URLL: 'h:1',
        ROUTE_MY_API_PREFX: '/a',
        ROUTE_URL: 'h:1',
        ROUTE_BILLING_PREFIX: '/billing',
        ROUTE_Y_URL: 'h:1',
        ROUTE_Y_STRIP_PREFIX: 'maybe',
        ROUTE_Y_WEIGHTS: '1 x -2',
        ROUTE_Y_TIMEOUT_SECS: '30s',
        ROUTE_Y_ALGORITHM: 'fastest',
      });

      expect(problems).toEqual([
        'ROUTE_X_URLL: unknown route setting (did you mean ROUTE_X_URL?)',
        'ROUTE_MY_API_PREFX: unknown route setting (did you mean ROUTE_MY_API_PREFIX?)',
        'ROUTE_URL: unknown route setting (expected ROUTE_<NAME>_<URL|TARGETS|PREFIX|HOST|STRIP_PREFIX|REQUIRE_AUTH|AUTH|HIDE_CREDENTIALS|WEIGHT|WEIGHTS|TIMEOUT_SECS|HEALTH_PATH|PRESERVE_HOST|ALGORITHM|MAX_BODY_SIZE|FAILURE_STATUSES>)',
        'ROUTE_Y_STRIP_PREFIX: invalid boolean "maybe" (expected true or false)',
        'ROUTE_Y_WEIGHTS: invalid integer "x"',
        'ROUTE_Y_WEIGHTS: must be >= 0, got -2',
        'ROUTE_Y_TIMEOUT_SECS: invalid integer "30s"',
        'ROUTE_Y_ALGORITHM: unknown algorithm "fastest" (expected round-robin|least-conn|ip-hash|weighted)',
        'ROUTE_BILLING: no upstream (set ROUTE_BILLING_URL or ROUTE_BILLING_TARGETS)',
      ]);
    });

    it('should name the variable of an invalid upstream', () => {
      expect(problemsOf({ ROUTE_A_URL: 'ftp://x', ROUTE_A_TARGETS: 'h:1 https://' })).toEqual([
        'ROUTE_A_URL: invalid upstream URL "ftp://x" (scheme must be http or https, not ftp)',
        'ROUTE_A_TARGETS: invalid upstream URL "https://" (not a URL)',
      ]);
    });
  });

  describe('upstreams and weights', () => {
    it('should index weights over [target_url, ...targets]', () => {
      const [route] = routesOf({
        ROUTE_A_URL: 'h:1',
        ROUTE_A_TARGETS: 'h:2 h:3 h:4',
        ROUTE_A_WEIGHTS: '5 0 7',
        ROUTE_A_WEIGHT: '2',
      });

      expect(route.upstreams).toEqual([
        { url: 'http://h:1', weight: 5 },
        { url: 'http://h:2', weight: 2 },
        { url: 'http://h:3', weight: 7 },
        { url: 'http://h:4', weight: 2 },
      ]);
    });

    it('should start weights at the first target when target_url is absent', () => {
      const [route] = routesOf({
        SERVICE_ROUTES: '[{"targets":["h:2","h:3"],"weights":[3,4]}]',
      });

      expect(route.upstreams.map((upstream) => upstream.weight)).toEqual([3, 4]);
    });

    it('should drop duplicates with a warning, keeping the first and raw weight positions', () => {
      const { config, warnings } = loadOk({
        SERVICE_ROUTES: JSON.stringify([
          {
            prefix: '/p',
            target_url: 'http://h:1',
            targets: ['h:1', 'http://h:1/', 'h:2'],
            weights: [1, 2, 3, 4],
          },
        ]),
      });

      expect(config.routes[0].upstreams).toEqual([
        { url: 'http://h:1', weight: 1 },
        { url: 'http://h:2', weight: 4 },
      ]);
      expect(warnings).toEqual([
        'SERVICE_ROUTES[0].targets[0]: duplicate upstream "http://h:1" dropped',
        'SERVICE_ROUTES[0].targets[1]: duplicate upstream "http://h:1" dropped',
      ]);
    });

    it('should reject more weights than upstream entries', () => {
      expect(problemsOf({ ROUTE_A_TARGETS: 'h:1 h:2', ROUTE_A_WEIGHTS: '1 2 3' })).toEqual([
        'ROUTE_A_WEIGHTS: 3 weights for 2 upstreams; weights index [target_url, ...targets]',
      ]);
    });

    it('should use CONNECTION_TIMEOUT when timeout_secs is 0 or absent, not 1 hour', () => {
      const routes = routesOf({
        CONNECTION_TIMEOUT: '12s',
        SERVICE_ROUTES:
          '[{"prefix":"/a","target_url":"h:1","timeout_secs":0},{"prefix":"/b","target_url":"h:1"}]',
      });

      expect(routes.map((route) => route.timeoutMs)).toEqual([12_000, 12_000]);
    });
  });

  describe('route conflicts', () => {
    it('should refuse prefixes that differ only by a trailing slash on one host, not across hosts', () => {
      const routes = (...list: object[]) => ({ SERVICE_ROUTES: JSON.stringify(list) });
      expect(
        problemsOf(
          routes(
            { name: 'a', prefix: '/api/users/', target_url: 'h:1' },
            { name: 'b', prefix: '/api/users', target_url: 'h:2' },
          ),
        ),
      ).toEqual([
        'routes: "b" (prefix "/api/users") and "a" (prefix "/api/users/") on host "*" differ only by a trailing slash: /api/users would go to "b" and /api/users/x to "a"; keep one ("/api/users" already covers /api/users/…)',
      ]);
      expect(
        routesOf(
          routes(
            { name: 'a', host: 'a.example.com', prefix: '/api/', target_url: 'h:1' },
            { name: 'b', prefix: '/api', target_url: 'h:2' },
            { name: 'root', prefix: '/', target_url: 'h:3' },
          ),
        ),
      ).toHaveLength(3);
    });

    it('should reject two routes with the same host and prefix', () => {
      expect(
        problemsOf({
          SERVICE_ROUTES: '[{"name":"api","prefix":"/api","target_url":"h:1"}]',
          ROUTE_API2_URL: 'h:2',
          ROUTE_API2_PREFIX: '/api',
        }),
      ).toEqual(['routes: "api" and "api2" both match host "*" prefix "/api"']);
    });

    it('should compare normalised hosts and treat "*" as any host', () => {
      expect(
        problemsOf({
          SERVICE_ROUTES: JSON.stringify([
            { name: 'a', host: 'API.example.com:443', target_url: 'h:1' },
            { name: 'b', host: 'api.example.com.', target_url: 'h:1' },
            { name: 'c', host: '*', target_url: 'h:1' },
            { name: 'd', target_url: 'h:1' },
          ]),
        }),
      ).toEqual([
        'routes: "a" and "b" both match host "api.example.com" prefix "/"',
        'routes: "c" and "d" both match host "*" prefix "/"',
      ]);
    });

    it('should reject duplicate names across sources', () => {
      expect(
        problemsOf({
          SERVICE_ROUTES: '[{"name":"API","prefix":"/a","target_url":"h:1"}]',
          ROUTE_API_URL: 'h:2',
        }),
      ).toEqual(['routes: name "api" is used by SERVICE_ROUTES[0] and ROUTE_API']);
    });

    it('should reject host patterns that can never match', () => {
      expect(problemsOf({ ROUTE_A_URL: 'h:1', ROUTE_A_HOST: '*example.com' })).toEqual([
        'ROUTE_A_HOST: invalid host pattern "*example.com" (expected a host name, an IP or "*.example.com")',
      ]);
    });
  });

  describe('GATEWAY_CONFIG file', () => {
    const yaml = [
      'server:',
      '  port: 8080',
      '  shutdown_timeout: 5s',
      'proxy:',
      '  connection_timeout: 20s',
      '  trusted_proxies: [10.0.0.0/8]',
      'security:',
      '  cors_allowed_origins: ["https://app.example.com"]',
      'log:',
      '  level: WARN',
      'no_dashboard: true',
      'routes:',
      '  - name: files',
      '    prefix: /files',
      '    target_url: http://10.0.0.7',
      '',
    ].join('\n');

    it('should read settings and routes from YAML', () => {
      const { config } = loadOk({ GATEWAY_CONFIG: 'gw.yaml' }, { 'gw.yaml': yaml });

      expect(config).toMatchObject({
        server: { port: 8080, shutdownTimeoutMs: 5_000 },
        proxy: { connectionTimeoutMs: 20_000, trustedProxies: ['10.0.0.0/8'] },
        security: { corsAllowedOrigins: ['https://app.example.com'] },
        log: { level: 'warn' },
        noDashboard: true,
        routes: [
          {
            name: 'files',
            prefix: '/files',
            upstreams: [{ url: 'http://10.0.0.7', weight: 1 }],
            stripPrefix: false,
            timeoutMs: 20_000,
          },
        ],
      });
      expect(config.configFile).toMatch(/gw\.yaml$/);
    });

    it('should read JSON files', () => {
      const json = JSON.stringify({
        $schema: './schema/gateway-config.schema.json',
        load_balancing: { algorithm: 'round-robin', health_check_interval: '3s' },
        cache: { enable_caching: false },
        no_dashboard: false,
        routes: [{ prefix: '/x', targets: ['h:1'] }],
      });
      const { config } = loadOk({ GATEWAY_CONFIG: 'gw.json' }, { 'gw.json': json });

      expect(config.loadBalancing).toMatchObject({
        algorithm: 'round-robin',
        healthCheckIntervalMs: 3_000,
      });
      expect(config.cache.enabled).toBe(false);
      expect(config.noDashboard).toBe(false);
      expect(config.routes.map((route) => route.name)).toEqual(['x']);
    });

    it('should let environment variables override file settings', () => {
      const { config } = loadOk(
        { GATEWAY_CONFIG: 'gw.yaml', GATEWAY_PORT: ':9000', CONNECTION_TIMEOUT: '1m' },
        { 'gw.yaml': yaml, '.env': 'LOG_LEVEL=error\n' },
      );

      expect(config.server.port).toBe(9000);
      expect(config.proxy.connectionTimeoutMs).toBe(60_000);
      expect(config.log.level).toBe('error');
      expect(config.server.shutdownTimeoutMs).toBe(5_000);
    });

    it('should let REDIS_ADDR in the environment replace redis.url from the file', () => {
      const { config } = loadOk(
        { GATEWAY_CONFIG: 'gw.yaml', REDIS_ADDR: 'cache:6379' },
        { 'gw.yaml': 'redis:\n  url: redis://file:6379\n' },
      );

      expect(config.redis.url).toBe('redis://cache:6379');
    });

    it('should add routes: file first, then SERVICE_ROUTES, then ROUTE_ variables', () => {
      const routes = routesOf(
        {
          GATEWAY_CONFIG: 'gw.yaml',
          SERVICE_ROUTES: '[{"name":"json","prefix":"/json","target_url":"h:2"}]',
          ROUTE_ENV_URL: 'h:3',
          ROUTE_ENV_PREFIX: '/env',
        },
        { 'gw.yaml': yaml },
      );

      expect(routes.map((route) => route.name)).toEqual(['files', 'json', 'env']);
    });

    it('should reject unknown keys anywhere in the file, with hints', () => {
      const problems = problemsOf(
        { GATEWAY_CONFIG: 'gw.yaml' },
        {
          'gw.yaml':
            'server:\n  prot: 80\nsecurity:\n  max_burst: 1\nextra: true\nroutes:\n  - target_url: h:1\n    strip: true\n',
        },
      );

      expect(problems).toEqual([
        'gw.yaml: server.prot: unknown key (did you mean "port"?)',
        'gw.yaml: security.max_burst: unknown key',
        'gw.yaml: routes[0].strip: unknown key',
        'gw.yaml: extra: unknown key',
      ]);
    });

    it('should report type, range and meaning problems in the file by path', () => {
      const problems = problemsOf(
        { GATEWAY_CONFIG: 'gw.yaml' },
        {
          'gw.yaml': [
            'server:',
            '  port: true',
            '  shutdown_timeout: 10',
            'proxy:',
            '  connection_timeout: "10"',
            '  idle_conn_timeout: 0s',
            'security:',
            '  max_burst_size: 0',
            '  ip_blacklist: [nope]',
            'load_balancing:',
            '  algorithm: fastest',
            'routes:',
            '  - name: a',
            '    target_url: ftp://x',
            '    weight: -1',
            '  - name: b',
            '    prefix: /b',
            '',
          ].join('\n'),
        },
      );

      expect(problems).toEqual([
        'gw.yaml: server.port: expected a port number or an address such as ":9777" or "127.0.0.1:9777"',
        'gw.yaml: server.shutdown_timeout: expected string, received number',
        'gw.yaml: proxy.connection_timeout: invalid duration "10" (missing unit, e.g. "10s")',
        'gw.yaml: load_balancing.algorithm: unknown algorithm "fastest" (expected round-robin|least-conn|ip-hash|weighted)',
        'gw.yaml: security.max_burst_size: must be >= 1',
        'gw.yaml: routes[0].weight: must be >= 0 (0 means 1)',
        'gw.yaml: proxy.idle_conn_timeout: must be > 0, got "0s"',
        'gw.yaml: security.ip_blacklist: invalid IP address or CIDR "nope"',
        'gw.yaml: routes[0].target_url: invalid upstream URL "ftp://x" (scheme must be http or https, not ftp)',
        'gw.yaml: routes[1]: no upstream (set target_url or targets)',
      ]);
    });

    it('should report YAML syntax errors, duplicate keys and a missing file', () => {
      expect(problemsOf({ GATEWAY_CONFIG: 'gw.yaml' }, { 'gw.yaml': 'a: 1\na: 2\n' })).toEqual([
        'gw.yaml: Map keys must be unique at line 2, column 1',
      ]);
      expect(problemsOf({ GATEWAY_CONFIG: 'gw.json' }, { 'gw.json': '{"server": ' })).toEqual([
        expect.stringMatching(/^gw\.json: invalid JSON \(/),
      ]);
      expect(problemsOf({ GATEWAY_CONFIG: 'missing.yaml' })).toEqual([
        'GATEWAY_CONFIG: cannot read "missing.yaml": no such file',
      ]);
    });

    it('should reject a file that is not a mapping and accept an empty one', () => {
      expect(problemsOf({ GATEWAY_CONFIG: 'gw.yaml' }, { 'gw.yaml': '- a\n- b\n' })).toEqual([
        'gw.yaml: expected object, received array',
      ]);
      expect(loadOk({ GATEWAY_CONFIG: 'gw.yaml' }, { 'gw.yaml': '' }).config.routes).toEqual([]);
    });

    it('should warn about a JWT secret kept in the file', () => {
      const { config, warnings } = loadOk(
        { GATEWAY_CONFIG: 'gw.yaml' },
        { 'gw.yaml': `auth:\n  jwt_secret: ${'z'.repeat(32)}\n` },
      );

      expect(config.auth.jwtSecret).toBe('z'.repeat(32));
      expect(warnings).toContainEqual(
        'gw.yaml: auth.jwt_secret: secrets belong in the JWT_SECRET environment variable, not the config file',
      );
    });
  });
});

describe('configFileBytes', () => {
  it('should give the size of the GATEWAY_CONFIG file a load would read, .env included', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'gateway-config-'));
    try {
      writeFileSync(join(cwd, 'gw.json'), '{"routes":[]}');
      writeFileSync(join(cwd, 'other.yaml'), 'routes: []\n# padding\n');
      expect(configFileBytes({ env: { GATEWAY_CONFIG: 'gw.json' }, cwd })).toBe(13);
      expect(configFileBytes({ env: {}, cwd })).toBe(0);
      expect(configFileBytes({ env: { GATEWAY_CONFIG: 'missing.json' }, cwd })).toBe(0);
      writeFileSync(join(cwd, '.env'), 'GATEWAY_CONFIG=other.yaml\n');
      expect(configFileBytes({ env: {}, cwd })).toBe(21);
      expect(configFileBytes({ env: { GATEWAY_CONFIG: 'gw.json' }, cwd })).toBe(13);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
