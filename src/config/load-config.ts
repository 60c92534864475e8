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
 *
 * The parts: settings are declared by area in ./settings/ (parser, default, file key, schema);
 * ./loader/ holds the sources (.env, the config file, their layered view), route normalisation
 * and the checks across settings.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { checkAuthConfig, readAuthConfig } from './auth-config';
import type { GatewayConfig } from './gateway-config.types';
import {
  checkAdminListener,
  checkCors,
  checkRemovedSettings,
  warnAboutFlags,
  warnAboutShadowedRoutes,
} from './loader/checks';
import { readConfigFile } from './loader/config-file';
import { withDotEnv } from './loader/dotenv';
import { warnAboutMisspeltVariables } from './loader/env-typos';
import { Report } from './loader/report';
import { loadRoutes } from './loader/routes';
import { Settings } from './loader/settings';
import { readAdmin } from './settings/admin';
import { CACHE } from './settings/cache';
import { GENERAL } from './settings/general';
import { LOAD_BALANCING } from './settings/load-balancing';
import { LOG } from './settings/log';
import { readObservability } from './settings/observability';
import { PROXY } from './settings/proxy';
import { readRedis } from './settings/redis';
import { RESILIENCE } from './settings/resilience';
import { readSecurity } from './settings/security';
import { readServer, SERVER } from './settings/server';

export { barePrefix, buildRoutesFromEntries } from './loader/routes';

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

/**
 * Size in bytes of the `GATEWAY_CONFIG` file a load with these options would read (0 when there
 * is none, or it cannot be read: the load reports that). Lets a caller decide, before loading,
 * whether the load is worth a thread of its own (a large route table).
 */
export function configFileBytes(options: LoadGatewayConfigOptions = {}): number {
  const cwd = options.cwd ?? process.cwd();
  const given = withDotEnv(options.env ?? process.env, cwd, new Report()).GATEWAY_CONFIG?.trim();
  if (given === undefined || given === '') {
    return 0;
  }
  try {
    return statSync(resolve(cwd, given)).size;
  } catch {
    return 0;
  }
}

/**
 * Loads and validates the whole configuration without side effects (no logging, no exit), so
 * `main.ts` and the `config:check` CLI can decide how to report.
 */
export function loadGatewayConfig(options: LoadGatewayConfigOptions = {}): LoadGatewayConfigResult {
  const report = new Report();
  const cwd = options.cwd ?? process.cwd();
  const env = withDotEnv(options.env ?? process.env, cwd, report);
  const file = readConfigFile(env, cwd, report);
  const settings = new Settings(env, file?.settings ?? new Map(), report, cwd);

  // Read ahead of their areas (values are kept, problems reported once) so that the report lists
  // them first, as it always has.
  settings.value(SERVER.settings.listen);
  const connectionTimeoutMs = settings.value(PROXY.settings.connectionTimeoutMs);

  const config: GatewayConfig = {
    server: readServer(settings),
    proxy: settings.values(PROXY.settings),
    loadBalancing: settings.values(LOAD_BALANCING.settings),
    resilience: settings.values(RESILIENCE.settings),
    security: readSecurity(settings, report),
    auth: readAuthConfig(settings, report),
    cache: {
      ...settings.values(CACHE.settings),
      // Only an explicit CACHE_TTL opts responses that state no freshness in to the cache.
      ttlExplicit: settings.raw(CACHE.settings.ttlMs.env) !== undefined,
    },
    redis: readRedis(settings, report),
    log: {
      ...settings.values(LOG.settings),
      pretty: options.isTTY ?? process.stdout.isTTY === true,
    },
    observability: readObservability(settings),
    admin: readAdmin(settings, report),
    ...settings.values(GENERAL.settings),
    ...(file === undefined ? {} : { configFile: file.path }),
    routes: loadRoutes(env, file, connectionTimeoutMs, report),
  };

  checkCors(config, report);
  checkRemovedSettings(env, report);
  warnAboutMisspeltVariables(env, report);
  checkAdminListener(config, report);
  checkAuthConfig(config, settings, report);
  warnAboutFlags(config, settings, report);
  warnAboutShadowedRoutes(config, report);

  if (report.problems.length > 0) {
    return { ok: false, problems: report.problems };
  }
  return { ok: true, config, warnings: report.warnings };
}
