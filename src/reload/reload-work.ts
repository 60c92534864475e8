import type { GatewayConfig, RouteConfig } from '../config/gateway-config.types';
import { buildRoutesFromEntries, loadGatewayConfig } from '../config/load-config';

/**
 * The CPU-heavy part of a reload (reading and validating the whole configuration) and of taking
 * over a route table another replica stored, apart so it can run on a worker thread when the
 * input is large: validating 20,000 routes takes about half a second. Plain data in and out.
 */

/**
 * What a reload applies: the routes, apart (a worker thread hands them over in parts), and the
 * rest of the configuration (IP lists; the other settings only to tell which changed); or why it
 * cannot.
 */
export type ReloadableConfig =
  { ok: true; routes: RouteConfig[]; settings: GatewayConfig } | { ok: false; problems: string[] };

/** Re-reads the configuration (environment, `.env` and the `GATEWAY_CONFIG` file), as at boot. */
export function loadReloadable(): ReloadableConfig {
  return reloadableOf(loadGatewayConfig());
}

export function reloadableOf(loaded: ReturnType<typeof loadGatewayConfig>): ReloadableConfig {
  if (!loaded.ok) {
    return { ok: false, problems: loaded.problems };
  }
  return { ok: true, routes: loaded.config.routes, settings: { ...loaded.config, routes: [] } };
}

/** A JSON array of routes in config-file form, validated with the config file's rules. */
export function validateRouteJson(
  json: string,
  connectionTimeoutMs: number,
  label: string,
): ReturnType<typeof buildRoutesFromEntries> {
  const data = JSON.parse(json) as unknown;
  if (!Array.isArray(data)) {
    return { ok: false, problems: [`${label}: expected a JSON array of routes`] };
  }
  return buildRoutesFromEntries(data, connectionTimeoutMs, label);
}
