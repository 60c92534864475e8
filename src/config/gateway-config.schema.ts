/**
 * Schema of the declarative config file (`GATEWAY_CONFIG=gateway.yaml`, YAML or JSON).
 *
 * Keys are the environment variable names in snake_case, grouped; each description names its
 * variable. The schema checks shape and types only and is strict, so a typo such as `prot:` is an
 * error instead of a silently ignored key. Meaning (durations > 0, IPs, URLs, conflicts) is checked
 * by `load-config.ts`, the same way for file and environment values.
 *
 * `schema/gateway-config.schema.json` is generated from this file (`write-json-schema.ts`).
 */
import { z } from 'zod';
import { GO_DURATION_PATTERN, parseGoDuration } from './duration';
import { unknownAlgorithmMessage } from './env-parsers';
import { LOAD_BALANCING_ALGORITHMS, RATE_LIMIT_KEYS } from './gateway-config.types';

/** Lower bounds shared by the file schema and the environment checks in `load-config.ts`. */
export const INTEGER_MINIMUMS = {
  MAX_HEADER_SIZE: 1,
  MAX_HEADER_COUNT: 1,
  MAX_BODY_SIZE: 0,
  MAX_IDLE_CONNS: 0,
  MAX_IN_FLIGHT: 1,
  MAX_REQUESTS_PER_SECOND: 1,
  MAX_BURST_SIZE: 1,
  DDOS_THRESHOLD: 1,
  RATE_LIMIT_MAX_KEYS: 1,
  CIRCUIT_BREAKER_MAX: 1,
  RETRY_ATTEMPTS: 1,
  RETRY_BUDGET_PERCENT: 0,
  HEALTH_CHECK_FAILS: 1,
  HEALTH_CHECK_PASSES: 1,
  PASSIVE_EJECT_FAILURES: 0,
  CACHE_MAX_OBJECT_SIZE: 1,
  CACHE_MAX_SIZE: 0,
  COMPRESSION_MIN_SIZE: 0,
} as const;

/** `RETRY_BUDGET_PERCENT` is a percentage of a route's active requests. */
export const RETRY_BUDGET_PERCENT_MAX = 100;

function duration(env: string, description: string, defaultValue?: string) {
  return z
    .string()
    .regex(GO_DURATION_PATTERN, {
      // Reuse the parser's message so file and environment errors read the same.
      error: (issue) => {
        try {
          parseGoDuration(String(issue.input));
          return 'invalid duration';
        } catch (error) {
          return (error as Error).message;
        }
      },
    })
    .optional()
    .meta({
      description: `${description} Go duration (\`300ms\`, \`10s\`, \`1h30m\`). Env: ${env}.`,
      ...(defaultValue === undefined ? {} : { default: defaultValue }),
    });
}

function integer(env: keyof typeof INTEGER_MINIMUMS, description: string, defaultValue: number) {
  const min = INTEGER_MINIMUMS[env];
  return z
    .int()
    .min(min, { error: `must be >= ${min}` })
    .optional()
    .meta({ description: `${description} Env: ${env}.`, default: defaultValue });
}

function boolean(env: string, description: string, defaultValue: boolean) {
  return z
    .boolean()
    .optional()
    .meta({ description: `${description} Env: ${env}.`, default: defaultValue });
}

function stringList(env: string, description: string) {
  return z
    .array(z.string())
    .optional()
    .meta({ description: `${description} Env: ${env}.`, default: [] });
}

const algorithm = z.enum(LOAD_BALANCING_ALGORITHMS, {
  error: (issue) => unknownAlgorithmMessage(issue.input),
});

const serverSchema = z.strictObject({
  port: z
    .union([z.int().min(0).max(65535), z.string()], {
      error: 'expected a port number or an address such as ":9777" or "127.0.0.1:9777"',
    })
    .optional()
    .meta({
      description:
        'Listen port or address: `9777`, `":9777"`, `"0.0.0.0:9777"`, `"[::]:9777"`. Env: GATEWAY_PORT.',
      default: ':9777',
    }),
  shutdown_timeout: duration(
    'SHUTDOWN_TIMEOUT',
    'Longest time in-flight requests may take to finish on SIGTERM/SIGINT.',
    '30s',
  ),
  keep_alive_timeout: duration(
    'KEEP_ALIVE_TIMEOUT',
    'Idle keep-alive timeout for client connections; keep it above load-balancer idle timeouts.',
    '65s',
  ),
  headers_timeout: duration(
    'HEADERS_TIMEOUT',
    'Time a client has to send the complete request head.',
    '30s',
  ),
  max_header_size: integer(
    'MAX_HEADER_SIZE',
    'Largest request head (request line + headers) in bytes.',
    16384,
  ),
  workers: z
    .union([z.int().min(1, { error: 'must be >= 1' }), z.literal('auto')], {
      error: 'expected a number of workers (>= 1) or "auto"',
    })
    .optional()
    .meta({
      description:
        'Worker processes sharing the listen port; `auto` is one per CPU. Env: GATEWAY_WORKERS.',
      default: 1,
    }),
});

const proxySchema = z.strictObject({
  connection_timeout: duration(
    'CONNECTION_TIMEOUT',
    'Default route timeout: time for an upstream to answer headers, and between body chunks.',
    '30s',
  ),
  upstream_connect_timeout: duration(
    'UPSTREAM_CONNECT_TIMEOUT',
    'Time allowed to open a TCP/TLS connection to an upstream.',
    '5s',
  ),
  max_idle_conns: integer('MAX_IDLE_CONNS', 'Idle sockets kept per upstream pool.', 100),
  idle_conn_timeout: duration(
    'IDLE_CONN_TIMEOUT',
    'How long an idle upstream socket is kept.',
    '90s',
  ),
  trusted_proxies: stringList(
    'TRUSTED_PROXIES',
    'IPs or CIDRs whose X-Forwarded-For/-Proto/-Host headers are believed.',
  ),
  max_in_flight: integer(
    'MAX_IN_FLIGHT',
    'Proxied requests in progress at once before new ones are answered 503 (overload).',
    10000,
  ),
});

const loadBalancingSchema = z.strictObject({
  algorithm: algorithm.optional().meta({
    description: 'Default algorithm for every route. Env: LOAD_BALANCING_ALGO.',
    default: 'least-conn',
  }),
  health_check_interval: duration(
    'HEALTH_CHECK_INTERVAL',
    'Interval between active upstream health checks.',
    '10s',
  ),
  health_check_timeout: duration(
    'HEALTH_CHECK_TIMEOUT',
    'A probe (TCP connect, or GET health_path) slower than this fails.',
    '2s',
  ),
  health_check_fails: integer(
    'HEALTH_CHECK_FAILS',
    'Consecutive failed probes before an upstream is marked down.',
    2,
  ),
  health_check_passes: integer(
    'HEALTH_CHECK_PASSES',
    'Consecutive passed probes before a down upstream is marked up again.',
    1,
  ),
  passive_eject_failures: integer(
    'PASSIVE_EJECT_FAILURES',
    'Consecutive failures of live traffic (connect errors, resets, timeouts, 5xx) that eject an upstream; 0 turns passive ejection off.',
    5,
  ),
  passive_eject_base: duration(
    'PASSIVE_EJECT_BASE',
    'First ejection period; doubles on each repeated ejection, up to 10 times this value.',
    '30s',
  ),
});

const resilienceSchema = z.strictObject({
  circuit_breaker_max: integer(
    'CIRCUIT_BREAKER_MAX',
    'Consecutive failures that open an upstream circuit breaker.',
    5,
  ),
  circuit_breaker_timeout: duration(
    'CIRCUIT_BREAKER_TIMEOUT',
    'Delay before an open breaker lets a trial request through.',
    '30s',
  ),
  retry_attempts: integer(
    'RETRY_ATTEMPTS',
    'Tries per request in all, the first one included; 1 disables retries.',
    3,
  ),
  retry_budget_percent: z
    .int()
    .min(INTEGER_MINIMUMS.RETRY_BUDGET_PERCENT, { error: 'must be >= 0' })
    .max(RETRY_BUDGET_PERCENT_MAX, { error: `must be <= ${RETRY_BUDGET_PERCENT_MAX}` })
    .optional()
    .meta({
      description:
        "Retries in flight on a route, as a percentage of the route's active requests (at least 3 are always allowed). Env: RETRY_BUDGET_PERCENT.",
      default: 20,
    }),
  retry_backoff: duration(
    'RETRY_BACKOFF',
    'Ceiling of the first retry wait (full jitter), doubled per retry up to 2s.',
    '100ms',
  ),
  retry_after_cap: duration(
    'RETRY_AFTER_CAP',
    'Longest upstream Retry-After waited before retrying.',
    '5s',
  ),
});

const securitySchema = z.strictObject({
  max_requests_per_second: integer('MAX_REQUESTS_PER_SECOND', 'Per-client token refill rate.', 100),
  max_burst_size: integer('MAX_BURST_SIZE', 'Per-client token bucket capacity.', 200),
  ddos_threshold: integer(
    'DDOS_THRESHOLD',
    'Requests per client per minute before the client is blocked.',
    1000,
  ),
  block_duration: duration('BLOCK_DURATION', 'How long a blocked client stays blocked.', '10m'),
  cors_allowed_origins: stringList(
    'CORS_ALLOWED_ORIGINS',
    'Origins allowed by CORS, e.g. `https://app.example.com`, or `*`.',
  ),
  cors_allowed_methods: stringList('CORS_ALLOWED_METHODS', 'Methods allowed in CORS preflights.'),
  cors_allowed_headers: stringList(
    'CORS_ALLOWED_HEADERS',
    'Request headers allowed in CORS preflights.',
  ),
  cors_exposed_headers: stringList(
    'CORS_EXPOSED_HEADERS',
    'Response headers browsers may read (Access-Control-Expose-Headers).',
  ),
  cors_allow_credentials: boolean(
    'CORS_ALLOW_CREDENTIALS',
    'Allow credentialed CORS requests (never together with a `*` origin).',
    false,
  ),
  cors_max_age: duration('CORS_MAX_AGE', 'How long browsers may cache a preflight answer.', '10m'),
  security_headers: boolean(
    'SECURITY_HEADERS',
    'Add X-Content-Type-Options, X-Frame-Options, CSP, Referrer-Policy, X-XSS-Protection (and HSTS over TLS) where missing.',
    true,
  ),
  max_body_size: integer(
    'MAX_BODY_SIZE',
    'Largest request body in bytes, enforced while streaming (413); 0 means no limit.',
    10485760,
  ),
  max_header_count: integer(
    'MAX_HEADER_COUNT',
    'Most request header fields accepted (431 beyond).',
    100,
  ),
  ip_whitelist: stringList('IP_WHITELIST', 'IPs or CIDRs that are always allowed.'),
  ip_blacklist: stringList('IP_BLACKLIST', 'IPs or CIDRs that are always refused.'),
  rate_limit_max_keys: integer(
    'RATE_LIMIT_MAX_KEYS',
    'Most token buckets (and flood counters) kept in memory; the least recently used is dropped beyond it.',
    100000,
  ),
  rate_limit_fail_closed: boolean(
    'RATE_LIMIT_FAIL_CLOSED',
    'While Redis is unreachable, answer 429 instead of falling back to per-replica buckets.',
    false,
  ),
});

const authSchema = z.strictObject({
  jwt_secret: z.string().optional().meta({
    description:
      'HMAC key (at least 32 bytes) for HS256 tokens. Secret: prefer the JWT_SECRET environment variable. Env: JWT_SECRET.',
  }),
  jwt_public_key: z.string().optional().meta({
    description:
      'PEM public key (RSA >= 2048 bits or EC P-256/384/521) for RS/PS/ES tokens. Env: JWT_PUBLIC_KEY.',
  }),
  jwt_public_key_file: z.string().optional().meta({
    description:
      'Path of a PEM public key file, relative to the working directory; instead of jwt_public_key. Env: JWT_PUBLIC_KEY_FILE.',
  }),
  jwks_url: z.string().optional().meta({
    description:
      "URL of the issuer's JSON Web Key Set; keys are cached, refreshed every 10 minutes and on an unknown `kid`. Env: JWKS_URL.",
  }),
  jwt_algorithms: z.array(z.string()).optional().meta({
    description:
      'The only JWS algorithms accepted (HS256|HS384|HS512|RS256|RS384|RS512|PS256|PS384|PS512|ES256|ES384|ES512; never none). Default: HS256 with a secret, the algorithm of the public key, RS256 and ES256 with a JWKS. Env: JWT_ALGORITHMS.',
  }),
  jwt_issuer: stringList('JWT_ISSUER', 'Accepted `iss` values; not checked when empty.'),
  jwt_audience: stringList(
    'JWT_AUDIENCE',
    'Accepted `aud` values (the token must name one); not checked when empty.',
  ),
  jwt_clock_tolerance: duration('JWT_CLOCK_TOLERANCE', 'Clock leeway for `exp` and `nbf`.', '30s'),
  jwt_forward_claims: z
    .array(z.string())
    .optional()
    .meta({
      description:
        'Claims sent upstream as headers after verification, as `claim:Header`; client copies of those headers are always removed; `none` forwards nothing. Env: JWT_FORWARD_CLAIMS.',
      default: ['sub:X-User-Id'],
    }),
  api_keys_file: z.string().optional().meta({
    description:
      'File of API keys, one per line: `<sha256-hex-or-key> [name] [rate/burst]`, `#` comments. Relative to the working directory. Env: API_KEYS_FILE.',
  }),
  public_paths: stringList(
    'PUBLIC_PATHS',
    'Paths that never need authentication: exact (`/login`) or explicit prefixes (`/public/*`).',
  ),
});

const cacheSchema = z.strictObject({
  enable_caching: boolean('ENABLE_CACHING', 'Shared HTTP cache (RFC 9111) for GET and HEAD.', true),
  cache_ttl: duration(
    'CACHE_TTL',
    'Freshness of cacheable responses that state none (no max-age, s-maxage or Expires).',
    '5m',
  ),
  cache_max_object_size: integer(
    'CACHE_MAX_OBJECT_SIZE',
    'Largest response body stored in the cache, in bytes.',
    1048576,
  ),
  cache_max_size: integer(
    'CACHE_MAX_SIZE',
    'Total bytes kept by the in-memory cache store; least recently used entries go first.',
    67108864,
  ),
  enable_compression: boolean(
    'ENABLE_COMPRESSION',
    'Compress responses with gzip or brotli, as the client accepts.',
    true,
  ),
  compression_min_size: integer(
    'COMPRESSION_MIN_SIZE',
    'Smallest response body compressed, in bytes.',
    1024,
  ),
});

const redisSchema = z.strictObject({
  url: z.string().optional().meta({
    description:
      'Redis URL (`redis://` or `rediss://`) for shared state; unset means in-memory only. Env: REDIS_URL.',
  }),
  addr: z.string().optional().meta({
    description: 'Redis `host:port`, the Go gateway spelling of `url`. Env: REDIS_ADDR.',
  }),
  password: z.string().optional().meta({
    description:
      'Redis password when the URL carries none. Secret: prefer the REDIS_PASSWORD environment variable. Env: REDIS_PASSWORD.',
  }),
  sentinels: stringList(
    'REDIS_SENTINELS',
    'Redis Sentinel `host:port` list; the master is found by `sentinel_name`.',
  ),
  sentinel_name: z.string().optional().meta({
    description: 'Master group name asked of the sentinels. Env: REDIS_SENTINEL_NAME.',
    default: 'mymaster',
  }),
  cluster_nodes: stringList('REDIS_CLUSTER_NODES', 'Redis Cluster seed nodes, `host:port`.'),
});

const observabilitySchema = z.strictObject({
  otlp_endpoint: z.string().optional().meta({
    description:
      'OTLP/HTTP collector base URL (e.g. `http://jaeger:4318`); traces go to `/v1/traces` under it. Tracing is off when unset. Env: OTEL_EXPORTER_OTLP_ENDPOINT.',
  }),
  jaeger_endpoint: z.string().optional().meta({
    description:
      'Full OTLP/HTTP traces URL (e.g. `http://jaeger:4318/v1/traces`), used as given. Env: JAEGER_ENDPOINT.',
  }),
  service_name: z.string().optional().meta({
    description: 'service.name of the spans. Env: OTEL_SERVICE_NAME.',
    default: 'nest-edge-gateway',
  }),
  trace_sample_ratio: z.number().min(0).max(1).optional().meta({
    description:
      'Share of requests traced (0–1) when the client sent no sampled traceparent. Env: TRACE_SAMPLE_RATIO.',
    default: 1,
  }),
  server_timing: boolean(
    'SERVER_TIMING',
    'Add Server-Timing and X-Gateway-Latency headers saying how long the gateway itself took.',
    false,
  ),
});

const adminSchema = z.strictObject({
  token: z.string().optional().meta({
    description:
      'Bearer token (at least 32 characters) for the admin API; the admin API is off without it. Secret: prefer the ADMIN_TOKEN environment variable. Env: ADMIN_TOKEN.',
  }),
  port: z
    .union([z.int().min(1).max(65535), z.string()], {
      error: 'expected a port number or an address such as "127.0.0.1:9778"',
    })
    .optional()
    .meta({
      description:
        'Separate listener for admin, docs, metrics and monitor; a bare port binds 127.0.0.1. Env: ADMIN_PORT.',
    }),
});

const logSchema = z.strictObject({
  level: z.string().optional().meta({
    description:
      'trace|debug|info|warn|error|fatal|silent; Go names DEBUG/INFO/WARN/WARNING/ERROR are accepted. Env: LOG_LEVEL.',
    default: 'info',
  }),
  access_log_file: z.string().optional().meta({
    description:
      'Write access-log lines (JSON) to this file, buffered, instead of stdout. Env: ACCESS_LOG_FILE.',
  }),
});

/** One route; also the element schema of `SERVICE_ROUTES` (after its keys are case-folded). */
export const routeFileSchema = z.strictObject({
  name: z.string().optional().meta({
    description:
      'Unique name used in logs and metrics; lower-cased. Derived from host and prefix when absent.',
  }),
  host: z.string().optional().meta({
    description:
      'Host to match: empty/absent any host, `api.example.com` exact, `*.example.com` subdomains.',
  }),
  prefix: z.string().optional().meta({
    description: 'Path prefix starting with `/`, matched on `/` boundaries.',
    default: '/',
  }),
  target_url: z.string().optional().meta({
    description:
      'First upstream, e.g. `http://10.0.0.5:8080`; `http://` is added when no scheme is given.',
  }),
  targets: z
    .array(z.string())
    .optional()
    .meta({ description: 'More upstreams, after `target_url`.' }),
  strip_prefix: z.boolean().optional().meta({
    description:
      'Remove `prefix` before forwarding. Defaults to false here and in SERVICE_ROUTES, true for ROUTE_<NAME>_* routes.',
    default: false,
  }),
  require_auth: z
    .boolean()
    .optional()
    .meta({ description: 'Request must be authenticated.', default: false }),
  weight: z.int().min(0, { error: 'must be >= 0 (0 means 1)' }).optional().meta({
    description: 'Weight of every upstream without its own entry in `weights`; 0 means 1.',
    default: 1,
  }),
  weights: z
    .array(z.int().min(0, { error: 'must be >= 0 (0 means `weight`)' }))
    .optional()
    .meta({
      description: 'Per-upstream weights indexing [target_url, ...targets]; 0 means `weight`.',
    }),
  timeout_secs: z
    .int()
    .min(0, { error: 'must be >= 0 (0 means CONNECTION_TIMEOUT)' })
    .optional()
    .meta({
      description: 'Upstream answer timeout in seconds; 0 or absent means CONNECTION_TIMEOUT.',
    }),
  health_path: z.string().optional().meta({
    description: 'Active health-check path (GET, expects 2xx); TCP connect check when absent.',
  }),
  preserve_host: z.boolean().optional().meta({
    description: "Forward the client's Host header instead of the upstream's.",
    default: false,
  }),
  algorithm: algorithm
    .optional()
    .meta({ description: 'Overrides load_balancing.algorithm for this route.' }),
  rate_limit: z
    .strictObject({
      rate: z.number().positive({ error: 'must be > 0' }).meta({
        description: 'Tokens refilled per second; may be fractional (0.5 = one request every 2 s).',
      }),
      burst: z.int().min(1, { error: 'must be >= 1' }).optional().meta({
        description:
          'Bucket capacity: requests allowed at once after an idle period. Default: rate rounded up.',
      }),
      key: z
        .enum(RATE_LIMIT_KEYS, { error: `expected one of ${RATE_LIMIT_KEYS.join('|')}` })
        .optional()
        .meta({
          description: 'What the bucket is keyed by: client IP, API key or JWT `sub`.',
          default: 'ip',
        }),
    })
    .optional()
    .meta({
      description:
        "The route's own token bucket, checked in addition to the per-IP MAX_REQUESTS_PER_SECOND bucket.",
    }),
  max_body_size: z
    .int()
    .min(0, { error: 'must be >= 0 (0 means no limit)' })
    .optional()
    .meta({ description: 'Overrides MAX_BODY_SIZE for this route (bytes; 0 means no limit).' }),
  cache: z
    .strictObject({
      enabled: z
        .boolean()
        .optional()
        .meta({ description: "Cache this route's responses.", default: true }),
      ttl: z
        .string()
        .regex(GO_DURATION_PATTERN, { error: 'invalid duration (e.g. `30s`, `5m`)' })
        .optional()
        .meta({
          description:
            'Overrides CACHE_TTL for responses that state no freshness. Go duration (`30s`, `5m`).',
        }),
      allow_set_cookie: z.boolean().optional().meta({
        description: 'Store responses that carry Set-Cookie (the cookie is replayed on hits).',
        default: false,
      }),
    })
    .optional()
    .meta({ description: 'Response cache settings of this route (ENABLE_CACHING still applies).' }),
});

export const gatewayConfigFileSchema = z
  .strictObject({
    $schema: z
      .string()
      .optional()
      .meta({ description: 'JSON Schema reference, for editors; ignored.' }),
    server: serverSchema.optional(),
    proxy: proxySchema.optional(),
    load_balancing: loadBalancingSchema.optional(),
    resilience: resilienceSchema.optional(),
    security: securitySchema.optional(),
    auth: authSchema.optional(),
    cache: cacheSchema.optional(),
    redis: redisSchema.optional(),
    log: logSchema.optional(),
    observability: observabilitySchema.optional(),
    admin: adminSchema.optional(),
    demo_upstream: boolean(
      'DEMO_UPSTREAM',
      'Serve the built-in demo upstream on /demo when no route is configured.',
      true,
    ),
    no_dashboard: boolean('NO_DASHBOARD', 'Disable the live terminal dashboard.', false),
    routes: z.array(routeFileSchema).optional().meta({
      description:
        'Routes, registered before SERVICE_ROUTES and ROUTE_<NAME>_* routes from the environment.',
    }),
  })
  .meta({
    title: 'nest-edge-gateway configuration',
    description:
      'Declarative gateway config (GATEWAY_CONFIG). Environment variables override these settings; routes from the environment are added to `routes`.',
  });

export type GatewayConfigFile = z.infer<typeof gatewayConfigFileSchema>;
export type RouteFileEntry = z.infer<typeof routeFileSchema>;

type SettingGroups = Omit<GatewayConfigFile, '$schema' | 'routes'>;
type EnvNameTree<T> = {
  [K in keyof T]-?: NonNullable<T[K]> extends readonly unknown[]
    ? string
    : NonNullable<T[K]> extends object
      ? EnvNameTree<NonNullable<T[K]>>
      : string;
};

/**
 * The environment variable behind every file setting. Typed against the schema, so adding a file
 * setting without saying which variable overrides it does not compile.
 */
export const FILE_SETTING_ENV_NAMES: EnvNameTree<SettingGroups> = {
  server: {
    port: 'GATEWAY_PORT',
    shutdown_timeout: 'SHUTDOWN_TIMEOUT',
    keep_alive_timeout: 'KEEP_ALIVE_TIMEOUT',
    headers_timeout: 'HEADERS_TIMEOUT',
    max_header_size: 'MAX_HEADER_SIZE',
    workers: 'GATEWAY_WORKERS',
  },
  proxy: {
    connection_timeout: 'CONNECTION_TIMEOUT',
    upstream_connect_timeout: 'UPSTREAM_CONNECT_TIMEOUT',
    max_idle_conns: 'MAX_IDLE_CONNS',
    idle_conn_timeout: 'IDLE_CONN_TIMEOUT',
    trusted_proxies: 'TRUSTED_PROXIES',
    max_in_flight: 'MAX_IN_FLIGHT',
  },
  load_balancing: {
    algorithm: 'LOAD_BALANCING_ALGO',
    health_check_interval: 'HEALTH_CHECK_INTERVAL',
    health_check_timeout: 'HEALTH_CHECK_TIMEOUT',
    health_check_fails: 'HEALTH_CHECK_FAILS',
    health_check_passes: 'HEALTH_CHECK_PASSES',
    passive_eject_failures: 'PASSIVE_EJECT_FAILURES',
    passive_eject_base: 'PASSIVE_EJECT_BASE',
  },
  resilience: {
    circuit_breaker_max: 'CIRCUIT_BREAKER_MAX',
    circuit_breaker_timeout: 'CIRCUIT_BREAKER_TIMEOUT',
    retry_attempts: 'RETRY_ATTEMPTS',
    retry_budget_percent: 'RETRY_BUDGET_PERCENT',
    retry_backoff: 'RETRY_BACKOFF',
    retry_after_cap: 'RETRY_AFTER_CAP',
  },
  security: {
    max_requests_per_second: 'MAX_REQUESTS_PER_SECOND',
    max_burst_size: 'MAX_BURST_SIZE',
    ddos_threshold: 'DDOS_THRESHOLD',
    block_duration: 'BLOCK_DURATION',
    cors_allowed_origins: 'CORS_ALLOWED_ORIGINS',
    cors_allowed_methods: 'CORS_ALLOWED_METHODS',
    cors_allowed_headers: 'CORS_ALLOWED_HEADERS',
    cors_exposed_headers: 'CORS_EXPOSED_HEADERS',
    cors_allow_credentials: 'CORS_ALLOW_CREDENTIALS',
    cors_max_age: 'CORS_MAX_AGE',
    security_headers: 'SECURITY_HEADERS',
    max_body_size: 'MAX_BODY_SIZE',
    max_header_count: 'MAX_HEADER_COUNT',
    ip_whitelist: 'IP_WHITELIST',
    ip_blacklist: 'IP_BLACKLIST',
    rate_limit_max_keys: 'RATE_LIMIT_MAX_KEYS',
    rate_limit_fail_closed: 'RATE_LIMIT_FAIL_CLOSED',
  },
  auth: {
    jwt_secret: 'JWT_SECRET',
    jwt_public_key: 'JWT_PUBLIC_KEY',
    jwt_public_key_file: 'JWT_PUBLIC_KEY_FILE',
    jwks_url: 'JWKS_URL',
    jwt_algorithms: 'JWT_ALGORITHMS',
    jwt_issuer: 'JWT_ISSUER',
    jwt_audience: 'JWT_AUDIENCE',
    jwt_clock_tolerance: 'JWT_CLOCK_TOLERANCE',
    jwt_forward_claims: 'JWT_FORWARD_CLAIMS',
    api_keys_file: 'API_KEYS_FILE',
    public_paths: 'PUBLIC_PATHS',
  },
  cache: {
    enable_caching: 'ENABLE_CACHING',
    cache_ttl: 'CACHE_TTL',
    cache_max_object_size: 'CACHE_MAX_OBJECT_SIZE',
    cache_max_size: 'CACHE_MAX_SIZE',
    enable_compression: 'ENABLE_COMPRESSION',
    compression_min_size: 'COMPRESSION_MIN_SIZE',
  },
  redis: {
    url: 'REDIS_URL',
    addr: 'REDIS_ADDR',
    password: 'REDIS_PASSWORD',
    sentinels: 'REDIS_SENTINELS',
    sentinel_name: 'REDIS_SENTINEL_NAME',
    cluster_nodes: 'REDIS_CLUSTER_NODES',
  },
  log: { level: 'LOG_LEVEL', access_log_file: 'ACCESS_LOG_FILE' },
  observability: {
    otlp_endpoint: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    jaeger_endpoint: 'JAEGER_ENDPOINT',
    service_name: 'OTEL_SERVICE_NAME',
    trace_sample_ratio: 'TRACE_SAMPLE_RATIO',
    server_timing: 'SERVER_TIMING',
  },
  admin: { token: 'ADMIN_TOKEN', port: 'ADMIN_PORT' },
  demo_upstream: 'DEMO_UPSTREAM',
  no_dashboard: 'NO_DASHBOARD',
};
