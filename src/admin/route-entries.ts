import { formatDuration } from '../config/duration';
import type { RouteFileEntry } from '../config/gateway-config.schema';
import type { RouteConfig } from '../config/gateway-config.types';

/**
 * A built route back in config-file form: what `GET /admin/routes` shows, what the admin API
 * persists, and what `POST`/`PUT` accept, so a listed route can be edited and sent back as is.
 * Defaults are written out explicitly (`strip_prefix`, `require_auth`), because env routes and
 * file routes default differently.
 */
export function routeToFileEntry(route: RouteConfig, defaultTimeoutMs: number): RouteFileEntry {
  // An upstream with its own failure statuses needs the object form, which only `targets` has:
  // then every upstream goes there (weights index `targets` alone when target_url is absent).
  const objectForm = route.upstreams.some((u) => u.failureStatuses !== undefined);
  const first = objectForm ? undefined : route.upstreams[0];
  const rest = objectForm ? route.upstreams : route.upstreams.slice(1);
  const weights = route.upstreams.map((u) => u.weight);
  return {
    name: route.name,
    ...(route.host === '' ? {} : { host: route.host }),
    prefix: route.prefix,
    ...(first === undefined ? {} : { target_url: first.url }),
    ...(rest.length === 0
      ? {}
      : {
          targets: rest.map((u) =>
            u.failureStatuses === undefined
              ? u.url
              : { url: u.url, failure_statuses: u.failureStatuses },
          ),
        }),
    ...(weights.every((w) => w === 1) ? {} : { weights }),
    strip_prefix: route.stripPrefix,
    require_auth: route.requireAuth,
    ...(route.auth === undefined ? {} : { auth: [...route.auth] }),
    ...(route.hideCredentials === true ? { hide_credentials: true } : {}),
    // Sub-second timeouts (only possible from CONNECTION_TIMEOUT) round up to whole seconds.
    ...(route.timeoutMs === defaultTimeoutMs
      ? {}
      : { timeout_secs: Math.max(1, Math.ceil(route.timeoutMs / 1000)) }),
    ...(route.healthPath === undefined ? {} : { health_path: route.healthPath }),
    preserve_host: route.preserveHost,
    ...(route.algorithm === undefined ? {} : { algorithm: route.algorithm }),
    ...(route.rateLimit === undefined
      ? {}
      : {
          rate_limit: {
            rate: route.rateLimit.rate,
            burst: route.rateLimit.burst,
            key: route.rateLimit.key,
          },
        }),
    ...(route.maxBodyBytes === undefined ? {} : { max_body_size: route.maxBodyBytes }),
    ...(route.failureStatuses === undefined ? {} : { failure_statuses: route.failureStatuses }),
    ...(route.cache === undefined
      ? {}
      : {
          cache: {
            enabled: route.cache.enabled,
            ...(route.cache.ttlMs === undefined ? {} : { ttl: formatDuration(route.cache.ttlMs) }),
            allow_set_cookie: route.cache.allowSetCookie,
          },
        }),
    ...(route.securityHeaders === undefined
      ? {}
      : { security_headers: { ...route.securityHeaders } }),
  };
}
