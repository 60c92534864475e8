import type { Setting } from '../settings/setting';
import type { Report } from './report';

export type Env = Readonly<Record<string, string | undefined>>;

export interface RawSetting {
  value: string;
  /** Where the value came from, as problems name it: `CACHE_TTL` or `gw.yaml: cache.cache_ttl`. */
  label: string;
}

/**
 * Settings by environment variable name: the environment (incl. `.env`) first, then the file,
 * then the declared default.
 */
export class Settings {
  /** Parsed values, so a setting read by two readers is reported once. */
  private readonly parsed = new Map<Setting<unknown>, unknown>();

  constructor(
    private readonly env: Env,
    private readonly file: ReadonlyMap<string, RawSetting>,
    private readonly report: Report,
    private readonly cwd: string,
  ) {}

  /** An unset or blank variable means "not set", as Go's `envOr` treated an empty one. */
  raw(name: string, options: { trim?: boolean } = {}): RawSetting | undefined {
    const value = this.env[name];
    if (value !== undefined && value.trim() !== '') {
      return { value: options.trim === false ? value : value.trim(), label: name };
    }
    return this.file.get(name);
  }

  /**
   * Variables that configure one thing together (`REDIS_URL`/`REDIS_ADDR`) come from a single
   * layer, so an environment `REDIS_ADDR` replaces a file `redis.url` instead of conflicting.
   */
  rawGroup(names: readonly string[]): (RawSetting | undefined)[] {
    const fromEnv = names.some((name) => (this.env[name] ?? '').trim() !== '');
    return names.map((name) => {
      const setting = this.raw(name);
      return setting !== undefined && (setting.label === name) === fromEnv ? setting : undefined;
    });
  }

  /** The setting's value: parsed from where it is set, or its default (also when invalid). */
  value<T>(setting: Setting<T>): T {
    if (this.parsed.has(setting)) {
      return this.parsed.get(setting) as T;
    }
    const value = this.parse(setting, this.raw(setting.env, { trim: setting.trim }));
    this.parsed.set(setting, value);
    return value;
  }

  /** Parses a raw value found by `raw`/`rawGroup` with the setting's parser; undefined when invalid. */
  parseRaw<T>(setting: Setting<T>, raw: RawSetting): T | undefined {
    return this.report.attempt(raw.label, () =>
      setting.parse(raw.value, { cwd: this.cwd, report: this.report, label: raw.label }),
    );
  }

  /**
   * Every setting of a table, keyed as in the table. Unset optional ones are left out rather than
   * set to undefined, so absent config fields stay absent.
   */
  values<S extends Record<string, Setting<unknown>>>(table: S): SettingValues<S> {
    const out: Record<string, unknown> = {};
    for (const [name, setting] of Object.entries(table)) {
      const value = this.value(setting);
      if (value !== undefined) {
        out[name] = value;
      }
    }
    return out as SettingValues<S>;
  }

  private parse<T>(setting: Setting<T>, raw: RawSetting | undefined): T {
    if (raw === undefined) {
      return setting.default;
    }
    return this.parseRaw(setting, raw) ?? setting.default;
  }
}

type ValueOf<S> = S extends Setting<infer T> ? T : never;
type OptionalKeys<S> = {
  [K in keyof S]: undefined extends ValueOf<S[K]> ? K : never;
}[keyof S];

/** `{ name: value }` of a table; settings that may be unset become optional fields. */
export type SettingValues<S> = { [K in Exclude<keyof S, OptionalKeys<S>>]: ValueOf<S[K]> } & {
  [K in OptionalKeys<S>]?: Exclude<ValueOf<S[K]>, undefined>;
};

/** `{ [key]: value }` when value is defined, else `{}`: keeps optional fields truly absent. */
export function withDefined<K extends string, V>(
  key: K,
  value: V | undefined,
): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
