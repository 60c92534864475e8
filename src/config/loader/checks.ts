/** Checks across settings, and startup warnings; each area's own checks live with its reader. */
import { parseGoBool } from '../env-parsers';
import type { GatewayConfig } from '../gateway-config.types';
import type { Report } from './report';
import type { Env, Settings } from './settings';
import { GENERAL } from '../settings/general';
import { reservedPathsUnder } from '../../common/http/reserved-paths';

/** Browsers refuse credentialed responses for `*`, so the combination can never work. */
export function checkCors(config: GatewayConfig, report: Report): void {
  if (config.security.corsAllowCredentials && config.security.corsAllowedOrigins.includes('*')) {
    report.problem(
      'CORS_ALLOW_CREDENTIALS',
      'cannot be true while CORS_ALLOWED_ORIGINS contains "*": list the origins explicitly',
    );
  }
}

/** The admin listener cannot share the gateway's address (it would fail to bind at start). */
export function checkAdminListener(config: GatewayConfig, report: Report): void {
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

export function checkRemovedSettings(env: Env, report: Report): void {
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

export function warnAboutFlags(config: GatewayConfig, settings: Settings, report: Report): void {
  const noDashboard = settings.raw(GENERAL.settings.noDashboard.env);
  if (noDashboard !== undefined && noDashboard.label === GENERAL.settings.noDashboard.env) {
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

/**
 * A route for any host whose prefix shares paths with the gateway's own (`/` shares them all,
 * `/api` shares `/api/system-metrics`): the gateway answers those itself on hosts no host route
 * claims, so the route's upstream never sees them there. With `ADMIN_PORT` only the probes stay
 * on the public port, and a route is told only when it clearly wants them (`/health…`).
 */
export function warnAboutShadowedRoutes(config: GatewayConfig, report: Report): void {
  const adminPort = config.admin.listen !== undefined;
  for (const route of config.routes) {
    if (route.host !== '') {
      continue;
    }
    const shared = reservedPathsUnder(route.prefix, adminPort);
    if (shared.length === 0 || (adminPort && !route.prefix.startsWith('/health'))) {
      continue;
    }
    report.warn(
      adminPort
        ? `route ${JSON.stringify(route.name)} (prefix ${JSON.stringify(route.prefix)}, any host) shares ${shared.join(', ')} with the gateway, which keeps them on the public port for load balancers; give the route a host to serve them from its upstream`
        : `route ${JSON.stringify(route.name)} (prefix ${JSON.stringify(route.prefix)}, any host) shares ${shared.join(', ')} with the gateway, which answers them itself on hosts no host route claims; give the route a host to serve them from its upstream, or set ADMIN_PORT (the public port then keeps only /health/live and /health/ready)`,
    );
  }
}
