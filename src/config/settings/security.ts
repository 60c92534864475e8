import { z } from 'zod';
import { collectEach, errorMessage, parseIpList, parseStrictInt, splitList } from '../env-parsers';
import type { SecurityConfig } from '../gateway-config.types';
import type { Report } from '../loader/report';
import type { Settings } from '../loader/settings';
import { area, boolean, duration, integer, list, setting } from './setting';

/**
 * The default flood threshold is this many times what a client's token bucket admits in a
 * minute: flood blocking is for clients that keep hammering far past their 429s, never for one
 * that stays inside its rate limit (behind a proxy without TRUSTED_PROXIES that is everyone).
 */
export const FLOOD_HEADROOM = 5;

/** Requests a client's bucket admits in one minute: the refill plus one full burst. */
export function bucketMinute(rate: number, burst: number): number {
  return Math.ceil(60 * rate) + burst;
}

export function floodThresholdFor(rate: number, burst: number): number {
  return FLOOD_HEADROOM * bucketMinute(rate, burst);
}

export const SECURITY = area({
  section: 'security',
  title: 'Edge protection',
  settings: {
    maxRequestsPerSecond: integer({
      env: 'MAX_REQUESTS_PER_SECOND',
      key: 'max_requests_per_second',
      description: 'Per-client token refill rate.',
      min: 1,
      default: 100,
    }),
    maxBurstSize: integer({
      env: 'MAX_BURST_SIZE',
      key: 'max_burst_size',
      description: 'Per-client token bucket capacity.',
      min: 1,
      default: 200,
    }),
    ddosThreshold: setting<number | undefined>({
      env: 'DDOS_THRESHOLD',
      key: 'ddos_threshold',
      description:
        'Requests per client in a sliding minute before the client is blocked for BLOCK_DURATION. Keep it well above what the token bucket admits in a minute (60 × MAX_REQUESTS_PER_SECOND + MAX_BURST_SIZE), or clients inside their rate limit get blocked.',
      type: 'integer >= 1',
      schema: z.int().min(1, { error: 'must be >= 1' }),
      parse: (raw) => {
        const n = parseStrictInt(raw);
        if (n < 1) {
          throw new Error(`must be >= 1, got ${n}`);
        }
        return n;
      },
      default: undefined,
      defaultNote: `${FLOOD_HEADROOM} × what the bucket admits in a minute (${floodThresholdFor(100, 200)} with the defaults)`,
    }),
    blockDurationMs: duration({
      env: 'BLOCK_DURATION',
      key: 'block_duration',
      description: 'How long a blocked client stays blocked.',
      default: '10m',
    }),
    corsAllowedOrigins: list({
      env: 'CORS_ALLOWED_ORIGINS',
      key: 'cors_allowed_origins',
      description: 'Origins allowed by CORS, e.g. `https://app.example.com`, or `*`.',
      type: 'JSON array of origins',
      parse: parseCorsOrigins,
      // A JSON array in the environment, as in Go.
      fileText: (value) => JSON.stringify(value),
      default: [],
    }),
    corsAllowedMethods: list({
      env: 'CORS_ALLOWED_METHODS',
      key: 'cors_allowed_methods',
      description: 'Methods allowed in CORS preflights.',
      parse: (raw) => splitList(raw.replace(/,/g, ' ')).map((m) => m.toUpperCase()),
      default: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    }),
    corsAllowedHeaders: list({
      env: 'CORS_ALLOWED_HEADERS',
      key: 'cors_allowed_headers',
      description: 'Request headers allowed in CORS preflights.',
      default: ['Authorization', 'Content-Type', 'X-API-Key', 'X-Request-Id'],
    }),
    corsExposedHeaders: list({
      env: 'CORS_EXPOSED_HEADERS',
      key: 'cors_exposed_headers',
      description: 'Response headers browsers may read (Access-Control-Expose-Headers).',
      default: ['X-Request-Id', 'RateLimit', 'RateLimit-Policy', 'Retry-After'],
    }),
    corsAllowCredentials: boolean({
      env: 'CORS_ALLOW_CREDENTIALS',
      key: 'cors_allow_credentials',
      description: 'Allow credentialed CORS requests (never together with a `*` origin).',
      default: false,
    }),
    corsMaxAgeMs: duration({
      env: 'CORS_MAX_AGE',
      key: 'cors_max_age',
      description: 'How long browsers may cache a preflight answer.',
      default: '10m',
    }),
    securityHeaders: boolean({
      env: 'SECURITY_HEADERS',
      key: 'security_headers',
      description:
        "Security headers: the gateway's own answers get a strict set (nosniff, X-Frame-Options DENY, CSP, Referrer-Policy, X-XSS-Protection: 0); proxied answers lacking them get only nosniff, Referrer-Policy and X-XSS-Protection: 0 (HSTS over TLS), and what a route's `security_headers` adds.",
      default: true,
    }),
    maxBodyBytes: integer({
      env: 'MAX_BODY_SIZE',
      key: 'max_body_size',
      description:
        'Largest request body in bytes, enforced while streaming (413); 0 means no limit.',
      min: 0,
      default: 10485760,
    }),
    maxHeaderCount: integer({
      env: 'MAX_HEADER_COUNT',
      key: 'max_header_count',
      description: 'Most request header fields accepted (431 beyond).',
      min: 1,
      default: 100,
    }),
    ipWhitelist: list({
      env: 'IP_WHITELIST',
      key: 'ip_whitelist',
      description: 'IPs or CIDRs that are always allowed.',
      type: 'IP/CIDR list',
      parse: parseIpList,
      default: [],
    }),
    ipBlacklist: list({
      env: 'IP_BLACKLIST',
      key: 'ip_blacklist',
      description: 'IPs or CIDRs that are always refused.',
      type: 'IP/CIDR list',
      parse: parseIpList,
      default: [],
    }),
    rateLimitMaxKeys: integer({
      env: 'RATE_LIMIT_MAX_KEYS',
      key: 'rate_limit_max_keys',
      description:
        'Most token buckets (and flood counters) kept in memory; the least recently used is dropped beyond it.',
      min: 1,
      default: 100000,
    }),
    rateLimitFailClosed: boolean({
      env: 'RATE_LIMIT_FAIL_CLOSED',
      key: 'rate_limit_fail_closed',
      description:
        'While Redis is unreachable, answer 429 instead of falling back to per-replica buckets.',
      default: false,
    }),
    rateLimitIpv6Prefix: integer({
      env: 'RATE_LIMIT_IPV6_PREFIX',
      key: 'rate_limit_ipv6_prefix',
      description:
        'IPv6 clients are limited, counted and blocked per network of this prefix length (an ISP hands each customer a /64 or more); 128 means per address.',
      min: 1,
      max: 128,
      default: 64,
    }),
    ownEndpointsRate: integer({
      env: 'OWN_ENDPOINTS_RATE',
      key: 'own_endpoints_rate',
      description:
        "Per-client token refill rate on the gateway's own endpoints (/health*, /metrics, /stats, /monitor, /api/system-metrics, /docs*, /admin*), kept in this process.",
      min: 1,
      default: 20,
    }),
    ownEndpointsBurst: integer({
      env: 'OWN_ENDPOINTS_BURST',
      key: 'own_endpoints_burst',
      description: "Per-client token bucket capacity on the gateway's own endpoints.",
      min: 1,
      default: 100,
    }),
    allowTrace: boolean({
      env: 'ALLOW_TRACE',
      key: 'allow_trace',
      description:
        'Proxy TRACE requests instead of answering them 405 (a reflected request can leak cookies and credentials).',
      default: false,
    }),
  },
});

/**
 * The security settings, with the flood threshold derived from the bucket when unset, and a
 * warning when one is set below what the bucket admits: such a threshold blocks clients for
 * BLOCK_DURATION while they stay inside their rate limit.
 */
export function readSecurity(settings: Settings, report: Report): SecurityConfig {
  const { ddosThreshold, ...rest } = settings.values(SECURITY.settings);
  const { maxRequestsPerSecond: rate, maxBurstSize: burst } = rest;
  const admitted = bucketMinute(rate, burst);
  if (ddosThreshold !== undefined && ddosThreshold < admitted) {
    const label = settings.raw(SECURITY.settings.ddosThreshold.env)?.label ?? 'DDOS_THRESHOLD';
    report.warn(
      `${label}: ${ddosThreshold} requests a minute is below what a client's rate limit admits ` +
        `(MAX_REQUESTS_PER_SECOND=${rate} and MAX_BURST_SIZE=${burst}: ${admitted} a minute), so ` +
        `clients inside their limit get blocked for BLOCK_DURATION (behind a load balancer without ` +
        `TRUSTED_PROXIES, every client at once); set it to at least ${admitted} ` +
        `(unset, it is ${floodThresholdFor(rate, burst)})`,
    );
  }
  return { ...rest, ddosThreshold: ddosThreshold ?? floodThresholdFor(rate, burst) };
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
