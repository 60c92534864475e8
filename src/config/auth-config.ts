/**
 * The `auth` settings: JWT keys and rules, API keys, public paths. Read by `loadGatewayConfig()`
 * like every other setting; the key files named here are read now too, so a missing file, a bad
 * PEM or a bad API-key line stops the start with one line each, like any other config problem.
 *
 * Nothing here has a built-in credential: with no key configured, nothing authenticates.
 */
import { isRedisConfigured } from './settings/redis';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  algorithmsForPublicKey,
  defaultAlgorithmForPublicKey,
  isHmacAlgorithm,
  isJwtAlgorithm,
  JWS_ALGORITHMS,
  publicKeyProblem,
} from '../common/crypto/jws-algorithms';
import { parseApiKeysFile } from './api-keys-file';
import { formatDuration, parseGoDuration } from './duration';
import { splitList } from './env-parsers';
import {
  JWT_ALGORITHMS,
  type AuthConfig,
  type ForwardedClaim,
  type GatewayConfig,
  type JwtAlgorithm,
} from './gateway-config.types';
import type { Report, Settings } from './load-config';

/** The Go gateway's default `JWT_SECRET`, public in its repository, compose file and k8s ConfigMap. */
const GO_PLACEHOLDER_JWT_SECRET = 'your-secret-key-change-in-production';

/** A larger leeway would make `exp` meaningless for short-lived access tokens. */
const MAX_CLOCK_TOLERANCE_MS = 10 * 60_000;

const DEFAULT_FORWARD_CLAIMS: ForwardedClaim[] = [{ claim: 'sub', header: 'x-user-id' }];

/** RFC 9110 token: the characters a header name may contain. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Headers a claim may not be written to: the gateway sets them, they frame the message, or they
 * carry client credentials upstreams may trust.
 */
const RESERVED_HEADERS = new Set([
  'authorization',
  'connection',
  'content-encoding',
  'content-length',
  'content-type',
  'cookie',
  'expect',
  'forwarded',
  'host',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'via',
  'x-api-key',
  'x-real-ip',
  'x-request-id',
]);

export function readAuthConfig(settings: Settings, report: Report, cwd: string): AuthConfig {
  const jwtSecret = settings.get('JWT_SECRET', (raw) => raw, undefined, { trim: false });
  const publicKey = readPublicKey(settings, report, cwd);
  const jwksUrl = settings.get('JWKS_URL', (raw) => parseJwksUrl(raw, report), undefined);
  const pinned = settings.get('JWT_ALGORITHMS', parseAlgorithms, undefined);
  const jwtAlgorithms = pinned ?? defaultAlgorithms(jwtSecret, publicKey?.key, jwksUrl);
  if (pinned !== undefined) {
    checkPinnedAlgorithms(pinned, settings, report, {
      hasSecret: jwtSecret !== undefined,
      publicKey: publicKey?.key,
      hasJwks: jwksUrl !== undefined,
    });
  }
  const apiKeys = readApiKeys(settings, report, cwd);

  return {
    ...(jwtSecret === undefined ? {} : { jwtSecret }),
    ...(publicKey === undefined ? {} : { jwtPublicKey: publicKey.pem }),
    ...(jwksUrl === undefined ? {} : { jwksUrl }),
    jwtAlgorithms,
    jwtIssuers: settings.get('JWT_ISSUER', splitList, []),
    jwtAudiences: settings.get('JWT_AUDIENCE', splitList, []),
    jwtClockToleranceMs: settings.get('JWT_CLOCK_TOLERANCE', parseClockTolerance, 30_000),
    jwtForwardClaims: settings.get(
      'JWT_FORWARD_CLAIMS',
      parseForwardClaims,
      DEFAULT_FORWARD_CLAIMS,
    ),
    ...(apiKeys === undefined ? {} : { apiKeysFile: apiKeys.path }),
    apiKeys: apiKeys?.keys ?? [],
    publicPaths: settings.get('PUBLIC_PATHS', (raw) => parsePublicPaths(raw, report), []),
  };
}

/**
 * Checks that need the routes: a route that requires auth with no way to authenticate, and a
 * short HMAC secret where HS* tokens are really accepted.
 */
export function checkAuthConfig(config: GatewayConfig, settings: Settings, report: Report): void {
  const auth = config.auth;
  const protectedRoutes = config.routes.filter((route) => route.requireAuth).map((r) => r.name);
  const hmac = auth.jwtAlgorithms.filter(isHmacAlgorithm);

  const secret = auth.jwtSecret;
  const source = settings.raw('JWT_SECRET', { trim: false });
  if (secret !== undefined && source !== undefined) {
    const minBytes = Math.max(32, ...hmac.map((alg) => JWS_ALGORITHMS[alg].minKeyBytes ?? 0));
    const pinnedHmac = settings.raw('JWT_ALGORITHMS') !== undefined && hmac.length > 0;
    if (secret.trim() === GO_PLACEHOLDER_JWT_SECRET) {
      report.problem(
        source.label,
        'is the public placeholder from the Go gateway; set a random secret (e.g. `openssl rand -base64 48`)',
      );
    } else if (Buffer.byteLength(secret) < minBytes) {
      if (hmac.length > 0 && (protectedRoutes.length > 0 || pinnedHmac)) {
        report.problem(
          source.label,
          `shorter than ${minBytes} bytes; ${hmac.join('/')} needs a key of at least ${minBytes * 8} random bits (e.g. \`openssl rand -base64 48\`)`,
        );
      } else {
        report.warn(
          `${source.label}: shorter than 32 bytes; HS256 keys should have at least 256 bits`,
        );
      }
    }
    if (source.label !== 'JWT_SECRET') {
      report.warn(
        `${source.label}: secrets belong in the JWT_SECRET environment variable, not the config file`,
      );
    }
  }

  const canVerifyJwt =
    (secret !== undefined && hmac.length > 0) ||
    ((auth.jwtPublicKey !== undefined || auth.jwksUrl !== undefined) &&
      auth.jwtAlgorithms.some((alg) => !isHmacAlgorithm(alg)));
  // With Redis, API keys may live in the shared `gateway:api-keys` hash (added at run time).
  const apiKeySource = auth.apiKeys.length > 0 || isRedisConfigured(config.redis);
  if (protectedRoutes.length > 0 && !canVerifyJwt && !apiKeySource) {
    report.problem(
      'routes',
      `${protectedRoutes.join(', ')} require authentication but no credential is configured (set JWT_SECRET, JWT_PUBLIC_KEY, JWT_PUBLIC_KEY_FILE, JWKS_URL or API_KEYS_FILE)`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// JWT keys and rules.

function readPublicKey(
  settings: Settings,
  report: Report,
  cwd: string,
): { pem: string; key: KeyObject } | undefined {
  // One layer only: an environment JWT_PUBLIC_KEY_FILE replaces a file `jwt_public_key`.
  const [inline, file] = settings.rawGroup(['JWT_PUBLIC_KEY', 'JWT_PUBLIC_KEY_FILE']);
  if (inline !== undefined && file !== undefined) {
    report.problem(inline.label, `conflicts with ${file.label}; set only one`);
    return undefined;
  }
  if (file !== undefined) {
    const text = report.attempt(file.label, () => readText(cwd, file.value));
    return text === undefined ? undefined : report.attempt(file.label, () => parsePublicKey(text));
  }
  if (inline !== undefined) {
    // Environments often carry PEMs on one line with literal `\n`.
    const text = inline.value.includes('\n') ? inline.value : inline.value.replace(/\\n/g, '\n');
    return report.attempt(inline.label, () => parsePublicKey(text));
  }
  return undefined;
}

function parsePublicKey(text: string): { pem: string; key: KeyObject } {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw new Error(
      'is a private key; give the gateway only the public key (`openssl pkey -in key.pem -pubout`)',
    );
  }
  if (!text.includes('-----BEGIN ')) {
    throw new Error('expected a PEM public key ("-----BEGIN PUBLIC KEY-----")');
  }
  let key: KeyObject;
  try {
    key = createPublicKey(text);
  } catch {
    throw new Error('invalid PEM public key');
  }
  const problem = publicKeyProblem(key);
  if (problem !== undefined) {
    throw new Error(problem);
  }
  // Normalised to SPKI, so PKCS#1 keys and certificates end up in one form.
  return { pem: key.export({ type: 'spki', format: 'pem' }).toString(), key };
}

function parseJwksUrl(raw: string, report: Report): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`invalid URL ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`unsupported scheme "${url.protocol}" (expected https:)`);
  }
  if (url.username !== '' || url.password !== '' || url.hash !== '') {
    throw new Error('must not contain credentials or a fragment');
  }
  if (url.protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) {
    report.warn(
      `JWKS_URL: keys fetched over plain http can be replaced in transit; use https (${url.host})`,
    );
  }
  return url.href;
}

function parseAlgorithms(raw: string): JwtAlgorithm[] {
  const algorithms: JwtAlgorithm[] = [];
  for (const item of splitList(raw)) {
    const name = item.toUpperCase();
    if (name === 'NONE') {
      throw new Error('"none" is never accepted: unsigned tokens would authenticate anyone');
    }
    if (!isJwtAlgorithm(name)) {
      throw new Error(
        `unknown algorithm ${JSON.stringify(item)} (expected ${JWT_ALGORITHMS.join('|')})`,
      );
    }
    if (!algorithms.includes(name)) {
      algorithms.push(name);
    }
  }
  return algorithms;
}

function defaultAlgorithms(
  secret: string | undefined,
  publicKey: KeyObject | undefined,
  jwksUrl: string | undefined,
): JwtAlgorithm[] {
  const algorithms = new Set<JwtAlgorithm>();
  if (secret !== undefined) {
    algorithms.add('HS256');
  }
  const keyAlgorithm =
    publicKey === undefined ? undefined : defaultAlgorithmForPublicKey(publicKey);
  if (keyAlgorithm !== undefined) {
    algorithms.add(keyAlgorithm);
  }
  if (jwksUrl !== undefined) {
    algorithms.add('RS256');
    algorithms.add('ES256');
  }
  return [...algorithms];
}

function checkPinnedAlgorithms(
  pinned: readonly JwtAlgorithm[],
  settings: Settings,
  report: Report,
  keys: { hasSecret: boolean; publicKey?: KeyObject; hasJwks: boolean },
): void {
  const label = settings.raw('JWT_ALGORITHMS')?.label ?? 'JWT_ALGORITHMS';
  const hmac = pinned.filter(isHmacAlgorithm);
  const asymmetric = pinned.filter((alg) => !isHmacAlgorithm(alg));
  if (hmac.length > 0 && !keys.hasSecret) {
    report.problem(label, `${hmac.join(', ')} needs JWT_SECRET`);
  }
  if (asymmetric.length > 0 && keys.publicKey === undefined && !keys.hasJwks) {
    report.problem(
      label,
      `${asymmetric.join(', ')} needs JWT_PUBLIC_KEY, JWT_PUBLIC_KEY_FILE or JWKS_URL`,
    );
  }
  if (keys.publicKey !== undefined) {
    const fits = algorithmsForPublicKey(keys.publicKey);
    if (!pinned.some((alg) => fits.includes(alg))) {
      report.problem(
        label,
        `accepts none of the algorithms the configured public key verifies (${fits.join(', ')})`,
      );
    }
  }
  if (keys.hasSecret && hmac.length === 0) {
    report.warn(`${label}: accepts no HS algorithm, so JWT_SECRET is not used`);
  }
}

function parseClockTolerance(raw: string): number {
  const ms = parseGoDuration(raw);
  if (ms < 0) {
    throw new Error(`must be >= 0, got ${JSON.stringify(raw)}`);
  }
  if (ms > MAX_CLOCK_TOLERANCE_MS) {
    throw new Error(
      `must be at most ${formatDuration(MAX_CLOCK_TOLERANCE_MS)}, got ${JSON.stringify(raw)}`,
    );
  }
  return ms;
}

/** `sub:X-User-Id,email:X-User-Email`; the last `:` separates, so `https://ns/roles:X-Roles` works. */
function parseForwardClaims(raw: string): ForwardedClaim[] {
  if (raw.trim().toLowerCase() === 'none') {
    return [];
  }
  const claims: ForwardedClaim[] = [];
  for (const entry of raw.split(',').map((item) => item.trim())) {
    if (entry === '') {
      continue;
    }
    const colon = entry.lastIndexOf(':');
    const claim = colon < 0 ? '' : entry.slice(0, colon).trim();
    const headerName = colon < 0 ? '' : entry.slice(colon + 1).trim();
    if (claim === '' || headerName === '') {
      throw new Error(
        `invalid entry ${JSON.stringify(entry)} (expected claim:Header, e.g. sub:X-User-Id, or none)`,
      );
    }
    const header = headerName.toLowerCase();
    if (!HEADER_NAME.test(headerName)) {
      throw new Error(`invalid header name ${JSON.stringify(headerName)}`);
    }
    if (RESERVED_HEADERS.has(header) || header.startsWith('x-forwarded-')) {
      throw new Error(`${headerName} cannot carry a claim: the gateway or the protocol owns it`);
    }
    if (claims.some((existing) => existing.header === header)) {
      throw new Error(`${headerName} is listed twice`);
    }
    claims.push({ claim, header });
  }
  return claims;
}

/**
 * `PUBLIC_PATHS`: exact paths (`/login`) and explicit prefixes (`/public/*`, which covers
 * `/public/` and everything below it, not `/public` itself nor `/publicity`). Paths are compared
 * with the canonical request path, so entries must be canonical too.
 */
function parsePublicPaths(raw: string, report: Report): string[] {
  const paths: string[] = [];
  for (const entry of splitList(raw)) {
    const base = entry.endsWith('/*') ? entry.slice(0, -1) : entry;
    if (!base.startsWith('/')) {
      throw new Error(`${JSON.stringify(entry)} must start with "/"`);
    }
    if (base.includes('*')) {
      throw new Error(
        `${JSON.stringify(entry)}: "*" is only allowed as a final "/*" (e.g. "/public/*")`,
      );
    }
    if (
      // eslint-disable-next-line no-control-regex -- control characters are what we refuse
      /[?#\\\x00-\x20\x7f]|\/\/|%(2e|2f|5c)/i.test(base) ||
      /\/\.\.?(\/|$)/.test(base)
    ) {
      throw new Error(
        `${JSON.stringify(entry)} is not a canonical path (no "//", "." or ".." segments, query, or encoded dot/slash)`,
      );
    }
    if (!paths.includes(entry)) {
      paths.push(entry);
    }
  }
  if (paths.includes('/*')) {
    report.warn('PUBLIC_PATHS: "/*" makes every path public, so require_auth has no effect');
  }
  return paths;
}

// ---------------------------------------------------------------------------------------------
// API keys.

function readApiKeys(
  settings: Settings,
  report: Report,
  cwd: string,
): { path: string; keys: AuthConfig['apiKeys'] } | undefined {
  const source = settings.raw('API_KEYS_FILE');
  if (source === undefined) {
    return undefined;
  }
  const path = resolve(cwd, source.value);
  const text = report.attempt(source.label, () => readText(cwd, source.value));
  if (text === undefined) {
    return undefined;
  }
  const parsed = parseApiKeysFile(text);
  for (const error of parsed.errors) {
    report.problem(source.label, `${source.value}, ${error}`);
  }
  if (parsed.plainKeys > 0) {
    report.warn(
      `${source.label}: ${parsed.plainKeys} key${parsed.plainKeys === 1 ? ' is' : 's are'} stored in plain text; store SHA-256 hashes instead (\`printf %s "$KEY" | sha256sum\`)`,
    );
  }
  if (parsed.keys.length === 0 && parsed.errors.length === 0) {
    report.warn(`${source.label}: ${source.value} holds no key`);
  }
  return { path, keys: parsed.keys };
}

function readText(cwd: string, given: string): string {
  try {
    return readFileSync(resolve(cwd, given), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(
      `cannot read ${JSON.stringify(given)}: ${code === 'ENOENT' ? 'no such file' : (code ?? String(error))}`,
    );
  }
}
