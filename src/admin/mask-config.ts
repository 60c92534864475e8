import type { GatewayConfig } from '../config/gateway-config.types';

export const MASK = '***';

/**
 * The effective config with every secret replaced: JWT secret, admin token, Redis password,
 * credentials in URLs (Redis, JWKS, trace collector), and API keys shown by id (never their
 * hashes).
 */
export function maskConfig(config: GatewayConfig): Record<string, unknown> {
  const { auth, admin, redis, observability } = config;
  const tracing = observability.tracing;
  return {
    ...config,
    auth: {
      ...auth,
      ...(auth.jwtSecret === undefined ? {} : { jwtSecret: MASK }),
      ...(auth.jwksUrl === undefined ? {} : { jwksUrl: maskUrlCredentials(auth.jwksUrl) }),
      apiKeys: auth.apiKeys.map((key) => ({
        id: key.hash.slice(0, 16),
        ...(key.name === undefined ? {} : { name: key.name }),
        ...(key.rateLimit === undefined ? {} : { rateLimit: key.rateLimit }),
        ...(key.admin === true ? { admin: true } : {}),
      })),
    },
    admin: { ...admin, ...(admin.token === undefined ? {} : { token: MASK }) },
    // Collector URLs may carry basic-auth credentials.
    observability: {
      ...observability,
      tracing: {
        ...tracing,
        ...(tracing.endpoint === undefined
          ? {}
          : { endpoint: maskUrlCredentials(tracing.endpoint) }),
      },
    },
    redis: {
      ...redis,
      ...(redis.url === undefined ? {} : { url: maskUrlCredentials(redis.url) }),
      ...(redis.password === undefined ? {} : { password: MASK }),
    },
  };
}

/** `redis://user:secret@h:6379` → `redis://user:***@h:6379`; no credentials: unchanged. */
export function maskUrlCredentials(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password !== '') {
      url.password = MASK;
    } else if (url.username !== '') {
      // `redis://secret@h` is a password without a user in Redis URLs.
      url.username = MASK;
    }
    return url.toString();
  } catch {
    return MASK;
  }
}
