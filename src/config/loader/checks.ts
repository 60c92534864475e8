/** Checks across settings, and startup warnings; each area's own checks live with its reader. */
import { parseGoBool } from '../env-parsers';
import type { GatewayConfig } from '../gateway-config.types';
import type { Report } from './report';
import type { Env, Settings } from './settings';
import { GENERAL } from '../settings/general';

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
