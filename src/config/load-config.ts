/**
 * Builds the {@link GatewayConfig} from `./.env`, the environment and the optional `GATEWAY_CONFIG`
 * file. The only code that reads `process.env`.
 *
 * Unlike the Go gateway, nothing is silently ignored or replaced by a default: every bad value,
 * unknown key and conflict becomes one line in `problems`, and all of them are collected before
 * returning, so an operator fixes everything in one pass.
 *
 * Precedence, for settings: environment > `.env` > file > default. Routes add up instead: file
 * routes, then `SERVICE_ROUTES`, then `ROUTE_<NAME>_<SUFFIX>` routes sorted by name.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { extname, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { checkAuthConfig, readAuthConfig } from './auth-config';
import { formatDuration, parseGoDuration } from './duration';
import {
  closestMatch,
  isValidHostPattern,
  normalizeHostPattern,
  normalizeUpstream,
  parseAlgorithm,
  parseGoBool,
  parseIpOrCidr,
  parseListenAddress,
  parseLogLevel,
  parseStrictInt,
  splitList,
} from './env-parsers';
import {
  FILE_SETTING_ENV_NAMES,
  INTEGER_MINIMUMS,
  RETRY_BUDGET_PERCENT_MAX,
  gatewayConfigFileSchema,
  routeFileSchema,
  type RouteFileEntry,
} from './gateway-config.schema';
import type { GatewayConfig, RouteConfig, UpstreamConfig } from './gateway-config.types';

export interface LoadGatewayConfigOptions {
  /** Variables to read. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Directory holding `.env`, and the base of a relative `GATEWAY_CONFIG`. @default process.cwd() */
  cwd?: string;
  /** Whether stdout is a terminal, which turns on pretty logs. @default process.stdout.isTTY */
  isTTY?: boolean;
}

export type LoadGatewayConfigResult =
  { ok: true; config: GatewayConfig; warnings: string[] } | { ok: false; problems: string[] };

type Env = Readonly<Record<string, string | undefined>>;
type PathSegment = PropertyKey;

/** Node timers fire after 1 ms when given more than this (TimeoutOverflowWarning). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Loads and validates the whole configuration without side effects (no logging, no exit), so
 * `main.ts` and the `config:check` CLI can decide how to report.
 */
export function loadGatewayConfig(options: LoadGatewayConfigOptions = {}): LoadGatewayConfigResult {
  const report = new Report();
  const cwd = options.cwd ?? process.cwd();
  const env = withDotEnv(options.env ?? process.env, cwd, report);
  const file = readConfigFile(env, cwd, report);
  const settings = new Settings(env, file?.settings ?? new Map(), report);

  const listen = settings.get('GATEWAY_PORT', (raw) => parseListenAddress(raw), {
    host: '0.0.0.0',
    port: 9777,
  });
  const connectionTimeoutMs = settings.get('CONNECTION_TIMEOUT', duration(), 30_000);

  const config: GatewayConfig = {
    server: {
      host: listen.host,
      port: listen.port,
      shutdownTimeoutMs: settings.get('SHUTDOWN_TIMEOUT', duration({ allowZero: true }), 30_000),
      keepAliveTimeoutMs: settings.get('KEEP_ALIVE_TIMEOUT', duration(), 65_000),
      headersTimeoutMs: settings.get('HEADERS_TIMEOUT', duration(), 30_000),
      maxHeaderSize: settings.get('MAX_HEADER_SIZE', atLeast('MAX_HEADER_SIZE'), 16_384),
      workers: settings.get('GATEWAY_WORKERS', parseWorkers, 1),
    },
    proxy: {
      connectionTimeoutMs,
      connectTimeoutMs: settings.get('UPSTREAM_CONNECT_TIMEOUT', duration(), 5_000),
      maxIdleConns: settings.get('MAX_IDLE_CONNS', atLeast('MAX_IDLE_CONNS'), 100),
      idleConnTimeoutMs: settings.get('IDLE_CONN_TIMEOUT', duration(), 90_000),
      trustedProxies: settings.get('TRUSTED_PROXIES', ipList, []),
      maxInFlight: settings.get('MAX_IN_FLIGHT', atLeast('MAX_IN_FLIGHT'), 10_000),
    },
    loadBalancing: {
      algorithm: settings.get('LOAD_BALANCING_ALGO', parseAlgorithm, 'least-conn'),
      healthCheckIntervalMs: settings.get('HEALTH_CHECK_INTERVAL', duration(), 10_000),
      healthCheckTimeoutMs: settings.get('HEALTH_CHECK_TIMEOUT', duration(), 2_000),
      healthCheckFails: settings.get('HEALTH_CHECK_FAILS', atLeast('HEALTH_CHECK_FAILS'), 2),
      healthCheckPasses: settings.get('HEALTH_CHECK_PASSES', atLeast('HEALTH_CHECK_PASSES'), 1),
      passiveEjectFailures: settings.get(
        'PASSIVE_EJECT_FAILURES',
        atLeast('PASSIVE_EJECT_FAILURES'),
        5,
      ),
      passiveEjectBaseMs: settings.get('PASSIVE_EJECT_BASE', duration(), 30_000),
    },
    resilience: {
      circuitBreakerMax: settings.get('CIRCUIT_BREAKER_MAX', atLeast('CIRCUIT_BREAKER_MAX'), 5),
      circuitBreakerTimeoutMs: settings.get('CIRCUIT_BREAKER_TIMEOUT', duration(), 30_000),
      retryAttempts: settings.get('RETRY_ATTEMPTS', atLeast('RETRY_ATTEMPTS'), 3),
      retryBudgetPercent: settings.get('RETRY_BUDGET_PERCENT', retryBudgetPercent, 20),
      retryBaseDelayMs: settings.get('RETRY_BACKOFF', duration(), 100),
      retryAfterCapMs: settings.get('RETRY_AFTER_CAP', duration(), 5_000),
    },
    security: {
      maxRequestsPerSecond: settings.get(
        'MAX_REQUESTS_PER_SECOND',
        atLeast('MAX_REQUESTS_PER_SECOND'),
        100,
      ),
      maxBurstSize: settings.get('MAX_BURST_SIZE', atLeast('MAX_BURST_SIZE'), 200),
      ddosThreshold: settings.get('DDOS_THRESHOLD', atLeast('DDOS_THRESHOLD'), 1000),
      blockDurationMs: settings.get('BLOCK_DURATION', duration(), 600_000),
      corsAllowedOrigins: settings.get('CORS_ALLOWED_ORIGINS', parseCorsOrigins, []),
      corsAllowedMethods: settings.get(
        'CORS_ALLOWED_METHODS',
        (raw) => splitList(raw.replace(/,/g, ' ')).map((m) => m.toUpperCase()),
        ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      ),
      corsAllowedHeaders: settings.get('CORS_ALLOWED_HEADERS', splitList, [
        'Authorization',
        'Content-Type',
        'X-API-Key',
        'X-Request-Id',
      ]),
      corsExposedHeaders: settings.get('CORS_EXPOSED_HEADERS', splitList, [
        'X-Request-Id',
        'RateLimit',
        'RateLimit-Policy',
        'Retry-After',
      ]),
      corsAllowCredentials: settings.get('CORS_ALLOW_CREDENTIALS', parseGoBool, false),
      corsMaxAgeMs: settings.get('CORS_MAX_AGE', duration(), 600_000),
      securityHeaders: settings.get('SECURITY_HEADERS', parseGoBool, true),
      maxBodyBytes: settings.get('MAX_BODY_SIZE', atLeast('MAX_BODY_SIZE'), 10_485_760),
      maxHeaderCount: settings.get('MAX_HEADER_COUNT', atLeast('MAX_HEADER_COUNT'), 100),
      ipWhitelist: settings.get('IP_WHITELIST', ipList, []),
      ipBlacklist: settings.get('IP_BLACKLIST', ipList, []),
      rateLimitMaxKeys: settings.get(
        'RATE_LIMIT_MAX_KEYS',
        atLeast('RATE_LIMIT_MAX_KEYS'),
        100_000,
      ),
      rateLimitFailClosed: settings.get('RATE_LIMIT_FAIL_CLOSED', parseGoBool, false),
    },
    auth: readAuthConfig(settings, report, cwd),
    cache: {
      enabled: settings.get('ENABLE_CACHING', parseGoBool, true),
      ttlMs: settings.get('CACHE_TTL', duration(), 300_000),
      maxObjectBytes: settings.get(
        'CACHE_MAX_OBJECT_SIZE',
        atLeast('CACHE_MAX_OBJECT_SIZE'),
        1_048_576,
      ),
      maxMemoryBytes: settings.get('CACHE_MAX_SIZE', atLeast('CACHE_MAX_SIZE'), 67_108_864),
      compression: settings.get('ENABLE_COMPRESSION', parseGoBool, true),
      compressionMinBytes: settings.get(
        'COMPRESSION_MIN_SIZE',
        atLeast('COMPRESSION_MIN_SIZE'),
        1024,
      ),
    },
    redis: readRedis(settings, report),
    log: {
      level: settings.get('LOG_LEVEL', parseLogLevel, 'info'),
      ...withDefined(
        'accessLogFile',
        settings.get<string | undefined>('ACCESS_LOG_FILE', (raw) => resolve(cwd, raw), undefined),
      ),
      pretty: options.isTTY ?? process.stdout.isTTY === true,
    },
    observability: {
      tracing: readTracing(settings, report),
      serverTiming: settings.get('SERVER_TIMING', parseGoBool, false),
    },
    admin: readAdmin(settings, report),
    demoUpstream: settings.get('DEMO_UPSTREAM', parseGoBool, true),
    // Any non-empty value, as in Go: the variable is a flag, not a boolean.
    noDashboard: settings.raw('NO_DASHBOARD') !== undefined,
    ...(file === undefined ? {} : { configFile: file.path }),
    routes: loadRoutes(env, file, connectionTimeoutMs, report),
  };

  if (config.security.corsAllowCredentials && config.security.corsAllowedOrigins.includes('*')) {
    report.problem(
      'CORS_ALLOW_CREDENTIALS',
      'cannot be true while CORS_ALLOWED_ORIGINS contains "*": list the origins explicitly',
    );
  }
  checkRemovedSettings(env, report);
  checkAdminListener(config, report);
  checkAuthConfig(config, settings, report);
  warnAboutFlags(config, settings, report);

  if (report.problems.length > 0) {
    return { ok: false, problems: report.problems };
  }
  return { ok: true, config, warnings: report.warnings };
}

/** `{ [key]: value }` when value is defined, else `{}`: keeps optional fields truly absent. */
function withDefined<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

// ---------------------------------------------------------------------------------------------
// Sources: .env, the config file, and the layered view of both plus the environment.

/** Thrown by list parsers so that each bad item becomes its own problem line. */
class ValueErrors extends Error {
  constructor(readonly messages: string[]) {
    super(messages.join('; '));
  }
}

export class Report {
  readonly problems: string[] = [];
  readonly warnings: string[] = [];

  problem(label: string, message: string): void {
    this.problems.push(`${label}: ${message}`);
  }

  warn(message: string): void {
    this.warnings.push(message);
  }

  /** Runs `parse`; a thrown error becomes a problem under `label` and the result is undefined. */
  attempt<T>(label: string, parse: () => T): T | undefined {
    try {
      return parse();
    } catch (error) {
      const messages = error instanceof ValueErrors ? error.messages : [errorMessage(error)];
      for (const message of messages) {
        this.problem(label, message);
      }
      return undefined;
    }
  }
}

export interface RawSetting {
  value: string;
  /** Where the value came from, as problems name it: `CACHE_TTL` or `gw.yaml: cache.cache_ttl`. */
  label: string;
}

/** Settings by environment variable name: environment (incl. `.env`) first, then the file. */
export class Settings {
  constructor(
    private readonly env: Env,
    private readonly file: ReadonlyMap<string, RawSetting>,
    private readonly report: Report,
  ) {}

  /** An unset or blank variable means "not set", as Go's `envOr` treated an empty one. */
  raw(name: string, options: { trim?: boolean } = {}): RawSetting | undefined {
    const value = this.env[name];
    if (value !== undefined && value.trim() !== '') {
      return { value: options.trim === false ? value : value.trim(), label: name };
    }
    return this.file.get(name);
  }

  /**
   * Variables that configure one thing together (`REDIS_URL`/`REDIS_ADDR`) come from a single
   * layer, so an environment `REDIS_ADDR` replaces a file `redis.url` instead of conflicting.
   */
  rawGroup(names: readonly string[]): (RawSetting | undefined)[] {
    const fromEnv = names.some((name) => (this.env[name] ?? '').trim() !== '');
    return names.map((name) => {
      const setting = this.raw(name);
      return setting !== undefined && (setting.label === name) === fromEnv ? setting : undefined;
    });
  }

  get<T>(name: string, parse: (raw: string) => T, fallback: T, options?: { trim?: boolean }): T {
    const setting = this.raw(name, options);
    if (setting === undefined) {
      return fallback;
    }
    return this.report.attempt(setting.label, () => parse(setting.value)) ?? fallback;
  }
}

/**
 * Adds `<cwd>/.env` under the real environment. A variable present in the environment wins even
 * when empty, exactly like godotenv, so `FOO= node dist/main.js` can still blank out a `.env` line.
 * Unlike Go (D27), `LOG_LEVEL` from `.env` is honoured: it is read here like everything else.
 */
function withDotEnv(env: NodeJS.ProcessEnv, cwd: string, report: Report): Env {
  const path = resolve(cwd, '.env');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      report.problem(path, `cannot read: ${errorMessage(error)}`);
    }
    return { ...env };
  }
  const merged: Record<string, string | undefined> = parseEnv(text);
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined) {
      merged[name] = value;
    }
  }
  return merged;
}

interface LoadedFile {
  /** The path as given in `GATEWAY_CONFIG`, used in problem lines. */
  label: string;
  /** Absolute path. */
  path: string;
  /** File settings keyed by the environment variable that overrides them. */
  settings: Map<string, RawSetting>;
  /** Routes (schema-valid, or salvaged), with their index in the file for messages. */
  routes: { index: number; parsed: Lenient<RouteFileEntry> }[];
}

function readConfigFile(env: Env, cwd: string, report: Report): LoadedFile | undefined {
  const given = env.GATEWAY_CONFIG?.trim();
  if (given === undefined || given === '') {
    return undefined;
  }
  const path = resolve(cwd, given);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : errorMessage(error);
    report.problem('GATEWAY_CONFIG', `cannot read ${JSON.stringify(given)}: ${reason}`);
    return undefined;
  }

  const document = parseConfigText(text, extname(path).toLowerCase() === '.json', given, report);
  if (document === undefined) {
    return undefined;
  }
  // An empty YAML file is null: a file with no settings, not an error.
  const data: unknown = document ?? {};
  const label = (path: readonly PathSegment[]): string =>
    path.length === 0 ? given : `${given}: ${formatPath(path)}`;

  const full = gatewayConfigFileSchema.safeParse(data);
  if (!full.success) {
    reportIssues(full.error, gatewayConfigFileSchema, label, report);
  }

  // Keep the parts that are valid on their own, so their meaning is still checked and every
  // problem shows up in this run rather than after the schema errors are fixed.
  const record = isPlainObject(data) ? data : {};
  const shape: Record<string, z.ZodType> = gatewayConfigFileSchema.shape;
  const valid: Record<string, unknown> = {};
  for (const key of Object.keys(FILE_SETTING_ENV_NAMES)) {
    const part = parseLeniently(shape[key], record[key]);
    if (part !== undefined) {
      valid[key] = part.value;
    }
  }
  const routes = Array.isArray(record.routes)
    ? record.routes.flatMap((item: unknown, index) => {
        const parsed = parseLeniently(routeFileSchema, item);
        return parsed === undefined ? [] : [{ index, parsed }];
      })
    : [];

  const settings = new Map<string, RawSetting>();
  collectFileSettings(valid, FILE_SETTING_ENV_NAMES, [], label, settings);
  return { label: given, path, settings, routes };
}

/** @returns the parsed document, `null` for an empty one, or `undefined` after reporting. */
function parseConfigText(text: string, isJson: boolean, label: string, report: Report): unknown {
  if (isJson) {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      report.problem(label, `invalid JSON (${errorMessage(error)})`);
      return undefined;
    }
  }
  // YAML also reads JSON, so files without a known extension work either way.
  const document = parseDocument(text);
  const issues = [...document.errors, ...document.warnings];
  for (const issue of issues) {
    // The first line holds the message and position; the rest is a source excerpt.
    report.problem(label, issue.message.split('\n')[0].replace(/:$/, ''));
  }
  if (issues.length > 0) {
    return undefined;
  }
  // toJS() throws on alias bombs (more than 100 alias expansions).
  return report.attempt(label, () => document.toJS() as unknown);
}

/** Flattens schema-valid file settings into environment-style strings, keyed by variable. */
function collectFileSettings(
  values: Record<string, unknown>,
  names: object,
  path: string[],
  label: (path: readonly PathSegment[]) => string,
  out: Map<string, RawSetting>,
): void {
  for (const [key, envName] of Object.entries(names) as [string, unknown][]) {
    const value = values[key];
    if (value === undefined) {
      continue;
    }
    if (typeof envName !== 'string') {
      if (isPlainObject(value) && typeof envName === 'object' && envName !== null) {
        collectFileSettings(value, envName, [...path, key], label, out);
      }
      continue;
    }
    const text = toEnvText(envName, value);
    if (text !== undefined && text.trim() !== '') {
      out.set(envName, { value: text, label: label([...path, key]) });
    }
  }
}

/**
 * File values go through the same string parsers as the environment, so both are validated by
 * one code path and report the same messages.
 */
function toEnvText(envName: string, value: unknown): string | undefined {
  if (envName === 'NO_DASHBOARD') {
    // The variable is presence-based; `no_dashboard: false` must not count as present.
    return value === true ? '1' : undefined;
  }
  if (Array.isArray(value)) {
    return envName === 'CORS_ALLOWED_ORIGINS' ? JSON.stringify(value) : value.join(',');
  }
  return String(value);
}

// ---------------------------------------------------------------------------------------------
// Value parsers with the ranges the Go gateway never checked (D26).

function duration(options: { allowZero?: boolean } = {}): (raw: string) => number {
  return (raw) => {
    const ms = parseGoDuration(raw);
    if (ms < 0 || (ms === 0 && options.allowZero !== true)) {
      throw new Error(
        `must be ${options.allowZero === true ? '>= 0' : '> 0'}, got ${JSON.stringify(raw)}`,
      );
    }
    if (ms > MAX_TIMER_MS) {
      throw new Error(
        `must be at most ${formatDuration(MAX_TIMER_MS)}, got ${JSON.stringify(raw)}`,
      );
    }
    return ms;
  };
}

function atLeast(name: keyof typeof INTEGER_MINIMUMS): (raw: string) => number {
  const min = INTEGER_MINIMUMS[name];
  return (raw) => {
    const n = parseStrictInt(raw);
    if (n < min) {
      throw new Error(`must be >= ${min}, got ${n}`);
    }
    return n;
  };
}

function retryBudgetPercent(raw: string): number {
  const n = atLeast('RETRY_BUDGET_PERCENT')(raw);
  if (n > RETRY_BUDGET_PERCENT_MAX) {
    throw new Error(`must be <= ${RETRY_BUDGET_PERCENT_MAX}, got ${n}`);
  }
  return n;
}

function ipList(raw: string): string[] {
  return collectEach(splitList(raw), parseIpOrCidr);
}

/** `CORS_ALLOWED_ORIGINS`: a JSON array, as in Go; each entry `*` or an exact origin. */
function parseCorsOrigins(raw: string): string[] {
  const example = 'e.g. ["https://app.example.com"]';
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new Error(
      `invalid JSON (${errorMessage(error)}); expected an array of origins, ${example}`,
    );
  }
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) {
    throw new Error(`expected a JSON array of origin strings, ${example}`);
  }
  return collectEach(parsed, (origin) => {
    if (origin === '*') {
      return origin;
    }
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    // Browsers send the serialised origin, so anything else (path, trailing slash, upper case)
    // would never match.
    if (url?.origin !== origin) {
      const hint =
        url !== undefined && url.origin !== 'null' ? `; did you mean "${url.origin}"?` : '';
      throw new Error(
        `invalid origin ${JSON.stringify(origin)} (expected scheme://host[:port]${hint})`,
      );
    }
    return origin;
  });
}

/** Applies `parse` to every item and throws all failures together. */
function collectEach<T>(items: readonly string[], parse: (item: string) => T): T[] {
  const errors: string[] = [];
  const values: T[] = [];
  for (const item of items) {
    try {
      values.push(parse(item));
    } catch (error) {
      errors.push(errorMessage(error));
    }
  }
  if (errors.length > 0) {
    throw new ValueErrors(errors);
  }
  return values;
}

/**
 * `REDIS_URL`, or Go's `REDIS_ADDR` (`host:port`). Go defaulted to `localhost:6379`; here unset
 * means no Redis, so a gateway never silently depends on a local Redis that is not there.
 */
function readRedis(settings: Settings, report: Report): GatewayConfig['redis'] {
  const nodeList = (raw: string): { host: string; port: number }[] =>
    collectEach(splitList(raw), (item) => parseListenAddress(item, 'localhost'));
  const password = settings.get<string | undefined>('REDIS_PASSWORD', (raw) => raw, undefined, {
    trim: false,
  });
  const topology = {
    ...withDefined('password', password),
    sentinels: settings.get('REDIS_SENTINELS', nodeList, []),
    sentinelName: settings.get('REDIS_SENTINEL_NAME', (raw) => raw, 'mymaster'),
    clusterNodes: settings.get('REDIS_CLUSTER_NODES', nodeList, []),
  };
  if (topology.sentinels.length > 0 && topology.clusterNodes.length > 0) {
    report.problem('REDIS_SENTINELS', 'conflicts with REDIS_CLUSTER_NODES; set only one');
  }
  return { ...readRedisUrl(settings, report), ...topology };
}

function readRedisUrl(settings: Settings, report: Report): { url?: string } {
  const [url, addr] = settings.rawGroup(['REDIS_URL', 'REDIS_ADDR']);
  if (url !== undefined && addr !== undefined) {
    report.problem(url.label, `conflicts with ${addr.label}; set only one`);
    return {};
  }
  if (url !== undefined) {
    const valid = report.attempt(url.label, () => {
      let parsed: URL;
      try {
        parsed = new URL(url.value);
      } catch {
        throw new Error('invalid Redis URL (expected redis://host:port or rediss://host:port)');
      }
      if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
        throw new Error(`unsupported scheme "${parsed.protocol}" (expected redis: or rediss:)`);
      }
      return url.value;
    });
    return valid === undefined ? {} : { url: valid };
  }
  if (addr !== undefined) {
    const address = report.attempt(addr.label, () => parseListenAddress(addr.value, 'localhost'));
    if (address !== undefined) {
      const host = address.host.includes(':') ? `[${address.host}]` : address.host;
      return { url: `redis://${host}:${address.port}` };
    }
  }
  return {};
}

/** `GATEWAY_WORKERS`: a count or `auto` (one per CPU the process may use). */
function parseWorkers(raw: string): number {
  if (raw.toLowerCase() === 'auto') {
    return Math.max(1, availableParallelism());
  }
  if (!/^[0-9]+$/.test(raw) || Number(raw) < 1) {
    throw new Error(`expected a number of workers (>= 1) or "auto", got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

/**
 * Tracing is on when an OTLP endpoint is configured: `OTEL_EXPORTER_OTLP_ENDPOINT` is the
 * collector's base URL (the OTel convention: traces go to `/v1/traces` under it),
 * `JAEGER_ENDPOINT` the full traces URL.
 */
function readTracing(
  settings: Settings,
  report: Report,
): GatewayConfig['observability']['tracing'] {
  const httpUrl = (raw: string): string => {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new Error('invalid URL (expected http://host:4318)');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new Error(
        `unsupported scheme "${parsed.protocol}" (OTLP over HTTP needs http: or https:)`,
      );
    }
    return raw;
  };
  const [otlp, jaeger] = settings.rawGroup(['OTEL_EXPORTER_OTLP_ENDPOINT', 'JAEGER_ENDPOINT']);
  let endpoint: string | undefined;
  if (otlp !== undefined) {
    const base = report.attempt(otlp.label, () => httpUrl(otlp.value));
    endpoint = base === undefined ? undefined : `${base.replace(/\/+$/, '')}/v1/traces`;
  } else if (jaeger !== undefined) {
    endpoint = report.attempt(jaeger.label, () => httpUrl(jaeger.value));
  }
  return {
    ...withDefined('endpoint', endpoint),
    serviceName: settings.get('OTEL_SERVICE_NAME', (raw) => raw, 'nest-edge-gateway'),
    sampleRatio: settings.get(
      'TRACE_SAMPLE_RATIO',
      (raw) => {
        const ratio = Number(raw);
        if (raw === '' || !Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
          throw new Error(`expected a ratio between 0 and 1, got ${JSON.stringify(raw)}`);
        }
        return ratio;
      },
      1,
    ),
  };
}

/** The admin API is off without a token; a short one is refused rather than silently weak. */
function readAdmin(settings: Settings, report: Report): GatewayConfig['admin'] {
  const token = settings.get<string | undefined>('ADMIN_TOKEN', (raw) => raw, undefined, {
    trim: false,
  });
  const source = settings.raw('ADMIN_TOKEN', { trim: false });
  if (token !== undefined && source !== undefined) {
    if (token.length < 32) {
      report.problem(
        source.label,
        'shorter than 32 characters; use a random token (e.g. `openssl rand -hex 32`)',
      );
    }
    if (source.label !== 'ADMIN_TOKEN') {
      report.warn(
        `${source.label}: secrets belong in the ADMIN_TOKEN environment variable, not the config file`,
      );
    }
  }
  const listen = settings.get<{ host: string; port: number } | undefined>(
    'ADMIN_PORT',
    (raw) => parseListenAddress(raw, '127.0.0.1'),
    undefined,
  );
  return { ...withDefined('token', token), ...withDefined('listen', listen) };
}

// ---------------------------------------------------------------------------------------------
// Routes.

/** `ROUTE_<NAME>_<SUFFIX>` suffixes and the file key each one sets. */
const ENV_ROUTE_SUFFIXES = {
  URL: 'target_url',
  TARGETS: 'targets',
  PREFIX: 'prefix',
  HOST: 'host',
  STRIP_PREFIX: 'strip_prefix',
  REQUIRE_AUTH: 'require_auth',
  WEIGHT: 'weight',
  WEIGHTS: 'weights',
  TIMEOUT_SECS: 'timeout_secs',
  HEALTH_PATH: 'health_path',
  PRESERVE_HOST: 'preserve_host',
  ALGORITHM: 'algorithm',
  MAX_BODY_SIZE: 'max_body_size',
} as const satisfies Record<string, Exclude<keyof RouteFileEntry, 'name'>>;
type EnvRouteSuffix = keyof typeof ENV_ROUTE_SUFFIXES;
type RouteKey = keyof RouteFileEntry;

// Longest first, so ROUTE_X_STRIP_PREFIX is route X with STRIP_PREFIX, not route X_STRIP.
const SUFFIXES_LONGEST_FIRST = (Object.keys(ENV_ROUTE_SUFFIXES) as EnvRouteSuffix[]).sort(
  (a, b) => b.length - a.length,
);
const SUFFIX_BY_KEY = new Map(
  (Object.entries(ENV_ROUTE_SUFFIXES) as [EnvRouteSuffix, RouteKey][]).map(([suffix, key]) => [
    key,
    suffix,
  ]),
);
const ROUTE_KEYS = Object.keys(routeFileSchema.shape) as RouteKey[];

/** A route from any source, in file shape, with what is needed to name its fields in problems. */
interface RouteDraft {
  /** `gw.yaml: routes[0]`, `SERVICE_ROUTES[2]` or `ROUTE_BILLING`. */
  origin: string;
  field: (key: RouteKey, index?: number) => string;
  entry: RouteFileEntry;
  /** Keys removed because their value was invalid (already reported). */
  dropped: ReadonlySet<string>;
  /** Go's defaults differ by source: false for JSON routes, true for `ROUTE_` env routes. */
  stripPrefixDefault: boolean;
  noUpstreamHint: string;
}

interface BuiltRoute {
  origin: string;
  route: Omit<RouteConfig, 'name'> & { name?: string };
}

function loadRoutes(
  env: Env,
  file: LoadedFile | undefined,
  connectionTimeoutMs: number,
  report: Report,
): RouteConfig[] {
  const drafts = [
    ...(file?.routes.map(({ index, parsed }) => {
      const at = (...path: PathSegment[]) =>
        `${file.label}: ${formatPath(['routes', index, ...path])}`;
      return jsonRouteDraft(parsed, at);
    }) ?? []),
    ...serviceRouteDrafts(env, report),
    ...envRouteDrafts(env, report),
  ];
  const built = drafts.flatMap((draft) => {
    const route = buildRoute(draft, connectionTimeoutMs, report);
    return route === undefined ? [] : [{ origin: draft.origin, route }];
  });
  const routes = assignNames(built, report);
  checkConflicts(routes, report);
  return routes.map(({ route }) => route);
}

/**
 * Validates and builds routes given in config-file form (`routes:` entries, e.g. from the admin
 * API) with exactly the config file's rules: schema, host/prefix/upstream checks, derived names,
 * duplicate names and host+prefix conflicts. Problems are `<label>[i].<field>: <message>` lines.
 */
export function buildRoutesFromEntries(
  entries: readonly unknown[],
  connectionTimeoutMs: number,
  label = 'routes',
): { ok: true; routes: RouteConfig[]; warnings: string[] } | { ok: false; problems: string[] } {
  const report = new Report();
  const drafts = entries.flatMap((item: unknown, index): RouteDraft[] => {
    const at = (...path: PathSegment[]) => `${label}${formatPath([index, ...path])}`;
    if (!isPlainObject(item)) {
      report.problem(at(), 'expected a JSON object');
      return [];
    }
    const checked = routeFileSchema.safeParse(item);
    if (!checked.success) {
      reportIssues(checked.error, routeFileSchema, (path) => at(...path), report);
    }
    const parsed = parseLeniently(routeFileSchema, item);
    return parsed === undefined ? [] : [jsonRouteDraft(parsed, at)];
  });
  const built = drafts.flatMap((draft) => {
    const route = buildRoute(draft, connectionTimeoutMs, report);
    return route === undefined ? [] : [{ origin: draft.origin, route }];
  });
  const routes = assignNames(built, report);
  checkConflicts(routes, report);
  if (report.problems.length > 0) {
    return { ok: false, problems: report.problems };
  }
  return { ok: true, routes: routes.map(({ route }) => route), warnings: report.warnings };
}

function jsonRouteDraft(
  { value: entry, dropped }: Lenient<RouteFileEntry>,
  at: (...path: PathSegment[]) => string,
): RouteDraft {
  return {
    origin: at(),
    field: (key, index) => (index === undefined ? at(key) : at(key, index)),
    entry,
    dropped,
    stripPrefixDefault: false,
    noUpstreamHint: 'set target_url or targets',
  };
}

/**
 * `SERVICE_ROUTES`: a JSON array of route objects. Keys match case-insensitively like Go's
 * encoding/json (`Target_URL` is `target_url`); unlike Go, unknown keys and type errors are
 * reported per field instead of dropping the whole array.
 */
function serviceRouteDrafts(env: Env, report: Report): RouteDraft[] {
  const text = env.SERVICE_ROUTES?.trim();
  if (text === undefined || text === '') {
    return [];
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    report.problem('SERVICE_ROUTES', `invalid JSON (${errorMessage(error)})`);
    return [];
  }
  if (!Array.isArray(parsed)) {
    report.problem(
      'SERVICE_ROUTES',
      'expected a JSON array of routes, e.g. [{"prefix":"/api","target_url":"http://10.0.0.5:8080"}]',
    );
    return [];
  }
  return parsed.flatMap((item: unknown, index): RouteDraft[] => {
    const at = (...path: PathSegment[]) => `SERVICE_ROUTES${formatPath([index, ...path])}`;
    if (!isPlainObject(item)) {
      report.problem(at(), 'expected a JSON object');
      return [];
    }
    const folded = foldRouteKeys(item, at, report);
    const checked = routeFileSchema.safeParse(folded);
    if (!checked.success) {
      reportIssues(checked.error, routeFileSchema, (path) => at(...path), report);
    }
    const parsed = parseLeniently(routeFileSchema, folded);
    return parsed === undefined ? [] : [jsonRouteDraft(parsed, at)];
  });
}

/** Renames keys to their canonical spelling: exact match first, then case-insensitive, as Go. */
function foldRouteKeys(
  item: Record<string, unknown>,
  at: (...path: PathSegment[]) => string,
  report: Report,
): Record<string, unknown> {
  const folded: Record<string, unknown> = {};
  const spelledAs = new Map<string, string>();
  for (const [key, value] of Object.entries(item)) {
    // Go leaves a field at its zero value for null; here that is the field's default.
    if (value === null) {
      continue;
    }
    const canonical =
      ROUTE_KEYS.find((candidate) => candidate === key) ??
      ROUTE_KEYS.find((candidate) => candidate.toLowerCase() === key.toLowerCase()) ??
      key;
    const previous = spelledAs.get(canonical);
    if (previous !== undefined) {
      report.problem(at(key), `duplicates "${previous}" (keys are case-insensitive)`);
      continue;
    }
    spelledAs.set(canonical, key);
    folded[canonical] = value;
  }
  return folded;
}

/**
 * `ROUTE_<NAME>_<SUFFIX>` variables. The name may contain underscores; the longest matching suffix
 * wins; names are registered in byte order; the route name is the lower-cased NAME.
 */
function envRouteDrafts(env: Env, report: Report): RouteDraft[] {
  const byName = new Map<string, Map<EnvRouteSuffix, string>>();
  for (const [variable, value] of Object.entries(env)) {
    if (!variable.startsWith('ROUTE_') || value === undefined || value.trim() === '') {
      continue;
    }
    const rest = variable.slice('ROUTE_'.length);
    const suffix = SUFFIXES_LONGEST_FIRST.find(
      (candidate) => rest.length > candidate.length + 1 && rest.endsWith(`_${candidate}`),
    );
    if (suffix === undefined) {
      report.problem(variable, `unknown route setting (${unknownSuffixHint(rest)})`);
      continue;
    }
    const name = rest.slice(0, rest.length - suffix.length - 1);
    const fields = byName.get(name) ?? new Map<EnvRouteSuffix, string>();
    fields.set(suffix, value.trim());
    byName.set(name, fields);
  }

  // Plain comparison rather than localeCompare: Go's sort.Strings orders by bytes.
  const names = [...byName.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return names.map((name) => {
    const fields = byName.get(name) ?? new Map<EnvRouteSuffix, string>();
    const variable = (suffix: EnvRouteSuffix) => `ROUTE_${name}_${suffix}`;
    const read = <T>(suffix: EnvRouteSuffix, parse: (raw: string) => T): T | undefined => {
      const raw = fields.get(suffix);
      return raw === undefined ? undefined : report.attempt(variable(suffix), () => parse(raw));
    };
    const entry: RouteFileEntry = {
      name: name.toLowerCase(),
      host: fields.get('HOST'),
      prefix: fields.get('PREFIX'),
      target_url: fields.get('URL'),
      targets: read('TARGETS', splitList),
      strip_prefix: read('STRIP_PREFIX', parseGoBool),
      require_auth: read('REQUIRE_AUTH', parseGoBool),
      weight: read('WEIGHT', nonNegativeInt),
      weights: read('WEIGHTS', (raw) => collectEach(splitList(raw), nonNegativeInt)),
      timeout_secs: read('TIMEOUT_SECS', nonNegativeInt),
      health_path: fields.get('HEALTH_PATH'),
      preserve_host: read('PRESERVE_HOST', parseGoBool),
      algorithm: read('ALGORITHM', parseAlgorithm),
      max_body_size: read('MAX_BODY_SIZE', nonNegativeInt),
    };
    return {
      origin: `ROUTE_${name}`,
      field: (key) => {
        const suffix = SUFFIX_BY_KEY.get(key);
        return suffix === undefined ? `ROUTE_${name}` : variable(suffix);
      },
      entry,
      dropped: new Set(),
      stripPrefixDefault: true,
      noUpstreamHint: `set ${variable('URL')} or ${variable('TARGETS')}`,
    };
  });
}

function unknownSuffixHint(rest: string): string {
  // Try every split point from the right, so ROUTE_MY_API_URLL suggests ROUTE_MY_API_URL.
  for (let i = rest.lastIndexOf('_'); i > 0; i = rest.lastIndexOf('_', i - 1)) {
    const match = closestMatch(rest.slice(i + 1), SUFFIXES_LONGEST_FIRST);
    if (match !== undefined) {
      return `did you mean ROUTE_${rest.slice(0, i)}_${match}?`;
    }
  }
  return `expected ROUTE_<NAME>_<${Object.keys(ENV_ROUTE_SUFFIXES).join('|')}>`;
}

function nonNegativeInt(raw: string): number {
  const n = parseStrictInt(raw);
  if (n < 0) {
    throw new Error(`must be >= 0, got ${n}`);
  }
  return n;
}

/** Applies Go's route semantics to one draft; every problem is reported with its field. */
function buildRoute(
  draft: RouteDraft,
  connectionTimeoutMs: number,
  report: Report,
): BuiltRoute['route'] | undefined {
  const { entry, field } = draft;
  const problemsBefore = report.problems.length;

  const host = normalizeHostPattern(entry.host ?? '');
  if (!isValidHostPattern(host)) {
    report.problem(
      field('host'),
      `invalid host pattern ${JSON.stringify(entry.host)} (expected a host name, an IP or "*.example.com")`,
    );
  }

  const prefix = (entry.prefix ?? '').trim() || '/';
  if (!prefix.startsWith('/') || /[\s?#]/.test(prefix)) {
    report.problem(
      field('prefix'),
      `invalid prefix ${JSON.stringify(entry.prefix)} (expected a path starting with "/", without query or spaces)`,
    );
  }

  const healthPath = entry.health_path?.trim() || undefined;
  if (healthPath !== undefined && !healthPath.startsWith('/')) {
    report.problem(field('health_path'), `must start with "/", got ${JSON.stringify(healthPath)}`);
  }

  const upstreams = buildUpstreams(draft, report);

  const timeoutSecs = entry.timeout_secs ?? 0;
  // 0/absent means CONNECTION_TIMEOUT; Go used 1 hour, which made that variable dead (D7).
  const timeoutMs = timeoutSecs > 0 ? timeoutSecs * 1000 : connectionTimeoutMs;
  if (timeoutMs > MAX_TIMER_MS) {
    report.problem(field('timeout_secs'), `must be at most ${Math.floor(MAX_TIMER_MS / 1000)}`);
  }

  if (report.problems.length > problemsBefore) {
    return undefined;
  }
  const name = entry.name?.trim().toLowerCase();
  return {
    ...(name ? { name } : {}),
    host,
    prefix,
    upstreams,
    stripPrefix: entry.strip_prefix ?? draft.stripPrefixDefault,
    requireAuth: entry.require_auth ?? false,
    timeoutMs,
    ...(healthPath === undefined ? {} : { healthPath }),
    preserveHost: entry.preserve_host ?? false,
    ...(entry.algorithm === undefined ? {} : { algorithm: entry.algorithm }),
    ...(entry.rate_limit === undefined
      ? {}
      : {
          rateLimit: {
            rate: entry.rate_limit.rate,
            // One second's worth of requests, so `rate: 5` alone behaves as "5 per second".
            burst: entry.rate_limit.burst ?? Math.max(1, Math.ceil(entry.rate_limit.rate)),
            key: entry.rate_limit.key ?? 'ip',
          },
        }),
    ...(entry.max_body_size === undefined ? {} : { maxBodyBytes: entry.max_body_size }),
    ...(entry.cache === undefined
      ? {}
      : {
          cache: {
            enabled: entry.cache.enabled ?? true,
            ...withDefined(
              'ttlMs',
              entry.cache.ttl === undefined ? undefined : parseGoDuration(entry.cache.ttl),
            ),
            allowSetCookie: entry.cache.allow_set_cookie ?? false,
          },
        }),
  };
}

/**
 * The upstream list is `[target_url, ...targets]`, normalised like Go's `normalizeUpstream`, with
 * duplicates dropped (first wins, with a warning).
 *
 * Weights (D22): `weights[i]` belongs to position `i` of that merged list, counted before invalid
 * or duplicate entries are dropped. So with `target_url` set, `weights[0]` is target_url's weight
 * and `weights[1]` the first target's; without it, `weights[0]` is the first target's. An entry
 * that is missing or 0 falls back to `weight`, then 1. More weights than entries is an error, which
 * catches the common off-by-one of writing weights for `targets` only.
 */
function buildUpstreams(draft: RouteDraft, report: Report): UpstreamConfig[] {
  const { entry, field } = draft;
  const targetUrl = entry.target_url?.trim() ? entry.target_url : undefined;
  const raw = [
    ...(targetUrl === undefined ? [] : [{ value: targetUrl, label: field('target_url') }]),
    ...(entry.targets ?? []).map((value, index) => ({ value, label: field('targets', index) })),
  ];
  if (raw.length === 0) {
    // An invalid target_url/targets was reported already; "no upstream" would only repeat it.
    if (!draft.dropped.has('target_url') && !draft.dropped.has('targets')) {
      report.problem(draft.origin, `no upstream (${draft.noUpstreamHint})`);
    }
    return [];
  }
  const weights = entry.weights ?? [];
  if (weights.length > raw.length) {
    report.problem(
      field('weights'),
      `${weights.length} weights for ${raw.length} upstreams; weights index [target_url, ...targets]`,
    );
  }

  const fallbackWeight = entry.weight !== undefined && entry.weight > 0 ? entry.weight : 1;
  const upstreams: UpstreamConfig[] = [];
  raw.forEach(({ value, label }, index) => {
    const url = report.attempt(label, () => normalizeUpstream(value));
    if (url === undefined) {
      return;
    }
    if (upstreams.some((upstream) => upstream.url === url)) {
      report.warn(`${label}: duplicate upstream ${JSON.stringify(url)} dropped`);
      return;
    }
    const weight = weights[index] ?? 0;
    upstreams.push({ url, weight: weight > 0 ? weight : fallbackWeight });
  });
  return upstreams;
}

/** Unnamed routes get a name from host and prefix (`api-users`), made unique with `-2`, `-3`. */
function assignNames(
  built: BuiltRoute[],
  report: Report,
): { origin: string; route: RouteConfig }[] {
  const origins = new Map<string, string[]>();
  for (const { origin, route } of built) {
    if (route.name !== undefined) {
      origins.set(route.name, [...(origins.get(route.name) ?? []), origin]);
    }
  }
  for (const [name, from] of origins) {
    if (from.length > 1) {
      report.problem('routes', `name ${JSON.stringify(name)} is used by ${from.join(' and ')}`);
    }
  }
  return built.map(({ origin, route }) => {
    let name = route.name;
    if (name === undefined) {
      const base =
        `${route.host.replace(/^\*\./, 'wildcard.')}${route.prefix}`
          .replace(/[^a-z0-9]+/g, '-')
          .replace(/^-+|-+$/g, '') || 'root';
      name = base;
      for (let n = 2; origins.has(name); n++) {
        name = `${base}-${n}`;
      }
      origins.set(name, [origin]);
    }
    return { origin, route: { ...route, name } };
  });
}

/** Two routes with the same host and prefix: the second could never match (Go kept both). */
function checkConflicts(routes: { route: RouteConfig }[], report: Report): void {
  const firstByKey = new Map<string, RouteConfig>();
  for (const { route } of routes) {
    const key = `${route.host}\n${route.prefix}`;
    const first = firstByKey.get(key);
    if (first === undefined) {
      firstByKey.set(key, route);
      continue;
    }
    report.problem(
      'routes',
      `${JSON.stringify(first.name)} and ${JSON.stringify(route.name)} both match host ${JSON.stringify(route.host || '*')} prefix ${JSON.stringify(route.prefix)}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Cross-setting checks and startup warnings.

/** The admin listener cannot share the gateway's address (it would fail to bind at start). */
function checkAdminListener(config: GatewayConfig, report: Report): void {
  const admin = config.admin.listen;
  const server = config.server;
  const anyHost = (host: string) => host === '0.0.0.0' || host === '::' || host === '';
  if (
    admin !== undefined &&
    admin.port !== 0 &&
    admin.port === server.port &&
    (admin.host === server.host || anyHost(admin.host) || anyHost(server.host))
  ) {
    report.problem(
      'ADMIN_PORT',
      `must differ from GATEWAY_PORT (${server.port}): the admin API has a listener of its own`,
    );
  }
}

function checkRemovedSettings(env: Env, report: Report): void {
  const vxcloud = env.ENABLE_VXCLOUD_DEFAULT_ROUTES?.trim();
  if (vxcloud) {
    const enabled = report.attempt('ENABLE_VXCLOUD_DEFAULT_ROUTES', () => parseGoBool(vxcloud));
    if (enabled === true) {
      report.problem(
        'ENABLE_VXCLOUD_DEFAULT_ROUTES',
        'the built-in VxCloud routes were removed; declare the routes you need (see gateway.example.yaml)',
      );
    }
  }
}

function warnAboutFlags(config: GatewayConfig, settings: Settings, report: Report): void {
  const noDashboard = settings.raw('NO_DASHBOARD');
  if (noDashboard !== undefined && noDashboard.label === 'NO_DASHBOARD') {
    if (['0', 'f', 'F', 'false', 'FALSE', 'False', 'no'].includes(noDashboard.value)) {
      report.warn(
        `NO_DASHBOARD=${JSON.stringify(noDashboard.value)} disables the dashboard (any non-empty value does); unset it to keep the dashboard`,
      );
    }
  }
  if (config.routes.length === 0) {
    report.warn(
      config.demoUpstream
        ? 'no routes configured; only the built-in demo upstream on /demo is served (declare routes in GATEWAY_CONFIG, SERVICE_ROUTES or ROUTE_<NAME>_URL)'
        : 'no routes configured and DEMO_UPSTREAM is false; every proxied request will get 404',
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers.

interface Lenient<T> {
  value: T;
  /** Keys left out because their value was invalid. */
  dropped: ReadonlySet<string>;
}

/**
 * Parses an object; when only some of its keys are invalid, parses it again without them. The rest
 * (other settings, a route's upstream URLs, host/prefix conflicts) is then still checked in the same
 * run. The caller reports the schema issues.
 */
function parseLeniently<T>(schema: z.ZodType<T>, item: unknown): Lenient<T> | undefined {
  const first = schema.safeParse(item);
  if (first.success) {
    return { value: first.data, dropped: new Set() };
  }
  if (!isPlainObject(item)) {
    return undefined;
  }
  const dropped = new Set<string>();
  for (const issue of first.error.issues) {
    if (issue.code === 'unrecognized_keys' && issue.path.length === 0) {
      issue.keys.forEach((key) => dropped.add(key));
    } else if (issue.path.length > 0) {
      dropped.add(String(issue.path[0]));
    }
  }
  const rest = Object.fromEntries(Object.entries(item).filter(([key]) => !dropped.has(key)));
  const second = schema.safeParse(rest);
  return second.success ? { value: second.data, dropped } : undefined;
}

/** Turns schema issues into problem lines; unknown keys get a "did you mean" hint. */
function reportIssues(
  error: z.ZodError,
  schema: z.ZodType,
  label: (path: readonly PathSegment[]) => string,
  report: Report,
): void {
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, issue.path);
      for (const key of issue.keys) {
        const hint = closestMatch(key, known);
        report.problems.push(
          `${label([...issue.path, key])}: unknown key${hint === undefined ? '' : ` (did you mean "${hint}"?)`}`,
        );
      }
    } else {
      report.problems.push(
        `${label(issue.path)}: ${issue.message.replace(/^Invalid input: /, '')}`,
      );
    }
  }
}

function knownKeysAt(schema: z.ZodType, path: readonly PathSegment[]): string[] {
  let current: z.ZodType | undefined = schema;
  for (const segment of path) {
    current = unwrapOptional(current);
    if (current instanceof z.ZodObject) {
      current = (current.shape as Record<string, z.ZodType | undefined>)[String(segment)];
    } else if (current instanceof z.ZodArray) {
      current = current.element as z.ZodType;
    } else {
      return [];
    }
    if (current === undefined) {
      return [];
    }
  }
  current = unwrapOptional(current);
  return current instanceof z.ZodObject ? Object.keys(current.shape) : [];
}

function unwrapOptional(schema: z.ZodType): z.ZodType {
  let current = schema;
  while (current instanceof z.ZodOptional) {
    current = current.unwrap() as z.ZodType;
  }
  return current;
}

/** `['routes', 0, 'targets', 1]` → `routes[0].targets[1]`; a leading index gives `[2].name`. */
function formatPath(path: readonly PathSegment[]): string {
  return path
    .map((segment, index) =>
      typeof segment === 'number'
        ? `[${segment}]`
        : index === 0
          ? String(segment)
          : `.${String(segment)}`,
    )
    .join('');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
