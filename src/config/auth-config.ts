/**
 * Reads the `auth` settings (declared in ./settings/auth.ts): JWT keys and rules, API keys,
 * public paths, and the checks that need other settings or the routes.
 *
 * Nothing here has a built-in credential: with no key configured, nothing authenticates.
 */
import type { KeyObject } from 'node:crypto';
import {
  algorithmsForPublicKey,
  defaultAlgorithmForPublicKey,
  isHmacAlgorithm,
  JWS_ALGORITHMS,
} from '../common/crypto/jws-algorithms';
import type { AuthConfig, GatewayConfig, JwtAlgorithm } from './gateway-config.types';
import type { Report } from './loader/report';
import { type Settings, withDefined } from './loader/settings';
import { AUTH } from './settings/auth';
import { isRedisConfigured } from './settings/redis';

/** The Go gateway's default `JWT_SECRET`, public in its repository, compose file and k8s ConfigMap. */
const GO_PLACEHOLDER_JWT_SECRET = 'your-secret-key-change-in-production';

export function readAuthConfig(settings: Settings, report: Report): AuthConfig {
  const s = AUTH.settings;
  const jwtSecret = settings.value(s.jwtSecret);
  const publicKey = readPublicKey(settings, report);
  const jwksUrl = settings.value(s.jwksUrl);
  const pinned = settings.value(s.jwtAlgorithms);
  const jwtAlgorithms = pinned ?? defaultAlgorithms(jwtSecret, publicKey?.key, jwksUrl);
  if (pinned !== undefined) {
    checkPinnedAlgorithms(pinned, settings, report, {
      hasSecret: jwtSecret !== undefined,
      publicKey: publicKey?.key,
      hasJwks: jwksUrl !== undefined,
    });
  }
  const apiKeys = settings.value(s.apiKeysFile);

  return {
    ...withDefined('jwtSecret', jwtSecret),
    ...withDefined('jwtPublicKey', publicKey?.pem),
    ...withDefined('jwksUrl', jwksUrl),
    jwtAlgorithms,
    jwtIssuers: settings.value(s.jwtIssuers),
    jwtAudiences: settings.value(s.jwtAudiences),
    jwtClockToleranceMs: settings.value(s.jwtClockToleranceMs),
    jwtForwardClaims: settings.value(s.jwtForwardClaims),
    ...withDefined('apiKeysFile', apiKeys?.path),
    apiKeys: apiKeys?.keys ?? [],
    publicPaths: settings.value(s.publicPaths),
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
  const source = settings.raw(AUTH.settings.jwtSecret.env, { trim: false });
  if (secret !== undefined && source !== undefined) {
    const minBytes = Math.max(32, ...hmac.map((alg) => JWS_ALGORITHMS[alg].minKeyBytes ?? 0));
    const pinnedHmac =
      settings.raw(AUTH.settings.jwtAlgorithms.env) !== undefined && hmac.length > 0;
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
  // With Redis, API keys may live in the shared `gateway:api-keys` hash (added at run time), and
  // the admin API creates keys at run time.
  const apiKeySource =
    auth.apiKeys.length > 0 || isRedisConfigured(config.redis) || config.admin.token !== undefined;
  const jwtHint = 'JWT_SECRET, JWT_PUBLIC_KEY, JWT_PUBLIC_KEY_FILE or JWKS_URL';
  const unservable = config.routes.filter(
    (route) =>
      route.requireAuth &&
      !(route.auth?.includes('jwt') !== false && canVerifyJwt) &&
      !(route.auth?.includes('api_key') !== false && apiKeySource),
  );
  const any = unservable.filter((route) => route.auth === undefined).map((r) => r.name);
  if (any.length > 0) {
    report.problem(
      'routes',
      `${any.join(', ')} require authentication but no credential is configured (set JWT_SECRET, JWT_PUBLIC_KEY, JWT_PUBLIC_KEY_FILE, JWKS_URL or API_KEYS_FILE)`,
    );
  }
  for (const route of unservable.filter((r) => r.auth !== undefined)) {
    const methods = route.auth ?? [];
    const needs = [
      ...(methods.includes('jwt') ? [jwtHint] : []),
      ...(methods.includes('api_key') ? ['API_KEYS_FILE, REDIS_URL or ADMIN_TOKEN'] : []),
    ];
    report.problem(
      'routes',
      `${route.name} accepts only ${methods.join(' and ')} but none can be verified (set ${needs.join('; or ')})`,
    );
  }
}

/** One layer only: an environment JWT_PUBLIC_KEY_FILE replaces a file `jwt_public_key`. */
function readPublicKey(
  settings: Settings,
  report: Report,
): { pem: string; key: KeyObject } | undefined {
  const { jwtPublicKey, jwtPublicKeyFile } = AUTH.settings;
  const [inline, file] = settings.rawGroup([jwtPublicKey.env, jwtPublicKeyFile.env]);
  if (inline !== undefined && file !== undefined) {
    report.problem(inline.label, `conflicts with ${file.label}; set only one`);
    return undefined;
  }
  if (file !== undefined) {
    return settings.parseRaw(jwtPublicKeyFile, file);
  }
  if (inline !== undefined) {
    return settings.parseRaw(jwtPublicKey, inline);
  }
  return undefined;
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
  const label = settings.raw(AUTH.settings.jwtAlgorithms.env)?.label ?? 'JWT_ALGORITHMS';
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
