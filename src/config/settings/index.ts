/**
 * Every setting, by area, in config-file order. Adding a setting means adding it to its area's
 * file; the file schema (and schema/gateway-config.schema.json), the env-name map, the loader's
 * defaults and docs/settings.md all follow from these tables.
 */
import { ADMIN } from './admin';
import { AUTH } from './auth';
import { CACHE } from './cache';
import { GENERAL } from './general';
import { LOAD_BALANCING } from './load-balancing';
import { LOG } from './log';
import { OBSERVABILITY } from './observability';
import { PROXY } from './proxy';
import { REDIS } from './redis';
import { RESILIENCE } from './resilience';
import { SECURITY } from './security';
import { SERVER } from './server';
import type { Setting, SettingArea } from './setting';

export const SETTING_AREAS: readonly SettingArea<Record<string, Setting<unknown>>>[] = [
  SERVER,
  PROXY,
  LOAD_BALANCING,
  RESILIENCE,
  SECURITY,
  AUTH,
  CACHE,
  REDIS,
  LOG,
  OBSERVABILITY,
  ADMIN,
  GENERAL,
];

/** A setting with where it sits in the config file. */
export interface PlacedSetting {
  readonly area: SettingArea<Record<string, Setting<unknown>>>;
  readonly setting: Setting<unknown>;
  /** `['cache', 'cache_ttl']`, or `['demo_upstream']` for a top-level key. */
  readonly path: readonly string[];
}

export const ALL_SETTINGS: readonly PlacedSetting[] = SETTING_AREAS.flatMap((area) =>
  Object.values(area.settings).map((setting) => ({
    area,
    setting,
    path: area.section === undefined ? [setting.key] : [area.section, setting.key],
  })),
);

/** The environment variable behind every file setting, by dotted file path (`cache.cache_ttl`). */
export const FILE_SETTING_ENV_NAMES: Readonly<Record<string, string>> = Object.fromEntries(
  ALL_SETTINGS.map(({ path, setting }) => [path.join('.'), setting.env]),
);
