import { maskUrl } from '../common/http/url-display';
import type { GatewayConfig } from '../config/gateway-config.types';

export const MASK = '***';

/**
 * The effective config with every secret replaced: JWT secret, admin token, Redis password,
 * the userinfo and query values of URLs (upstreams, Redis, JWKS, trace collector), and API keys
 * shown by id (never their hashes).
 */
export function maskConfig(config: GatewayConfig): Record<string, unknown> {
  const { auth, admin, redis, observability } = config;
  const tracing = observability.tracing;
  return {
    ...config,
    routes: config.routes.map((route) => ({
      ...route,
      upstreams: route.upstreams.map((u) => ({ ...u, url: maskUrl(u.url) })),
    })),
    auth: {
      ...auth,
      ...(auth.jwtSecret === undefined ? {} : { jwtSecret: MASK }),
      ...(auth.jwksUrl === undefined ? {} : { jwksUrl: maskUrl(auth.jwksUrl) }),
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
        ...(tracing.endpoint === undefined ? {} : { endpoint: maskUrl(tracing.endpoint) }),
      },
    },
    redis: {
      ...redis,
      ...(redis.url === undefined ? {} : { url: maskUrl(redis.url) }),
      ...(redis.password === undefined ? {} : { password: MASK }),
    },
  };
}
