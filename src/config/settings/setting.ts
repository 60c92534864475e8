/**
 * What one setting is, declared once: its environment variable, its place in the config file,
 * the file schema of its value, the parser both sources go through, its default and its
 * description. The file schema, the env-name map, the loader's defaults and docs/settings.md are
 * all derived from these declarations (see ./index.ts).
 */
import { z } from 'zod';
import { formatDuration, GO_DURATION_PATTERN, MAX_TIMER_MS, parseGoDuration } from '../duration';
import { parseGoBool, parseStrictInt, splitList } from '../env-parsers';
import { Report } from '../loader/report';

/** What a parser may need besides the text: relative paths, and a place for warnings. */
export interface ParseContext {
  /** The directory holding `.env`; relative paths are resolved against it. */
  readonly cwd: string;
  readonly report: Report;
  /** Where the value came from, for warnings: `CACHE_TTL` or `gw.yaml: cache.cache_ttl`. */
  readonly label: string;
}

/** A default as a user writes it in the config file. */
export type ShownDefault = string | number | boolean | readonly string[] | readonly number[];

export interface Setting<T> {
  /** Environment variable; problems with an environment value are labelled with it. */
  readonly env: string;
  /** Key in the config file, under the area's section (`cache: { cache_ttl }`). */
  readonly key: string;
  /** What the setting does, in a sentence or two (schema description and docs). */
  readonly description: string;
  /** The kind of value, for the docs (`duration`, `integer >= 1`, `list`…). */
  readonly type: string;
  /** Shape of the file value; strict about types, while meaning is checked by `parse`. */
  readonly schema: z.ZodType;
  /** Extra text after the description in the schema, such as the duration syntax. */
  readonly schemaNote?: string;
  /**
   * The value from its text: an environment value, or a file value turned into the same text
   * by `fileText`, so both sources are checked by one parser with the same messages. Throws an
   * Error whose message describes the value.
   */
  readonly parse: (raw: string, context: ParseContext) => T;
  /** The value when the setting is set nowhere (or its value was invalid). */
  readonly default: T;
  /** The default as written in a file, for the schema and the docs; absent when there is none to show. */
  readonly shownDefault?: ShownDefault;
  /** Explains a default that depends on other settings (docs only). */
  readonly defaultNote?: string;
  /** A file value as environment text; `undefined` means "not set". */
  readonly fileText: (value: unknown) => string | undefined;
  /** Keep surrounding whitespace (secrets may end in spaces); values are trimmed otherwise. */
  readonly trim: boolean;
}

interface Common {
  env: string;
  key: string;
  description: string;
}

/** Lists are written `a,b` in the environment and as arrays in the file. */
function defaultFileText(value: unknown): string {
  return Array.isArray(value) ? value.join(',') : String(value);
}

/** A setting of any kind; the helpers below cover the common ones. */
export function setting<T>(
  spec: Common & {
    type: string;
    schema: z.ZodType;
    parse: (raw: string, context: ParseContext) => T;
    default: T;
    shownDefault?: ShownDefault;
    defaultNote?: string;
    schemaNote?: string;
    fileText?: (value: unknown) => string | undefined;
    trim?: boolean;
  },
): Setting<T> {
  return { ...spec, fileText: spec.fileText ?? defaultFileText, trim: spec.trim ?? true };
}

/** A string used as given (names, paths, secrets); unset by default. */
export function text(
  spec: Common & { default: string; trim?: boolean; type?: string },
): Setting<string>;
export function text(
  spec: Common & { default?: string; trim?: boolean; type?: string },
): Setting<string | undefined>;
export function text(
  spec: Common & { default?: string; trim?: boolean; type?: string },
): Setting<string | undefined> {
  return setting<string | undefined>({
    env: spec.env,
    key: spec.key,
    description: spec.description,
    type: spec.type ?? 'string',
    schema: z.string(),
    parse: (raw) => raw,
    default: spec.default,
    ...(spec.default === undefined ? {} : { shownDefault: spec.default }),
    ...(spec.trim === undefined ? {} : { trim: spec.trim }),
  });
}

/**
 * A Go duration (`300ms`, `10s`, `1h30m`) in milliseconds, > 0 unless `allowZero`, and never
 * beyond what a Node timer can wait (longer ones fire after 1 ms).
 */
export function duration(
  spec: Common & { default: string; allowZero?: boolean; maxMs?: number },
): Setting<number> {
  const allowZero = spec.allowZero === true;
  const maxMs = spec.maxMs ?? MAX_TIMER_MS;
  return setting({
    env: spec.env,
    key: spec.key,
    description: spec.description,
    type: 'duration',
    schema: z.string().regex(GO_DURATION_PATTERN, {
      // Reuse the parser's message so file and environment errors read the same.
      error: (issue) => {
        try {
          parseGoDuration(String(issue.input));
          return 'invalid duration';
        } catch (error) {
          return (error as Error).message;
        }
      },
    }),
    schemaNote: 'Go duration (`300ms`, `10s`, `1h30m`).',
    parse: (raw) => {
      const ms = parseGoDuration(raw);
      if (ms < 0 || (ms === 0 && !allowZero)) {
        throw new Error(`must be ${allowZero ? '>= 0' : '> 0'}, got ${JSON.stringify(raw)}`);
      }
      if (ms > maxMs) {
        throw new Error(`must be at most ${formatDuration(maxMs)}, got ${JSON.stringify(raw)}`);
      }
      return ms;
    },
    default: parseGoDuration(spec.default),
    shownDefault: spec.default,
  });
}

/** A base-10 integer within `[min, max]`. */
export function integer(
  spec: Common & { min: number; max?: number; default: number },
): Setting<number> {
  const { min, max } = spec;
  let schema = z.int().min(min, { error: `must be >= ${min}` });
  if (max !== undefined) {
    schema = schema.max(max, { error: `must be <= ${max}` });
  }
  return setting({
    env: spec.env,
    key: spec.key,
    description: spec.description,
    type: max === undefined ? `integer >= ${min}` : `integer ${min}–${max}`,
    schema,
    parse: (raw) => {
      const n = parseStrictInt(raw);
      if (n < min) {
        throw new Error(`must be >= ${min}, got ${n}`);
      }
      if (max !== undefined && n > max) {
        throw new Error(`must be <= ${max}, got ${n}`);
      }
      return n;
    },
    default: spec.default,
    shownDefault: spec.default,
  });
}

/** Go's boolean spellings in the environment (`1 t T TRUE true True`, and their false forms). */
export function boolean(spec: Common & { default: boolean }): Setting<boolean> {
  return setting({
    env: spec.env,
    key: spec.key,
    description: spec.description,
    type: 'boolean',
    schema: z.boolean(),
    parse: parseGoBool,
    default: spec.default,
    shownDefault: spec.default,
  });
}

/**
 * A list: comma or space separated in the environment, an array in the file. `parse` checks the
 * whole text (so every bad item is reported); by default the items are kept as written.
 */
export function list<T = string>(
  spec: Common & {
    default: readonly string[];
    parse?: (raw: string, context: ParseContext) => T[];
    fileText?: (value: unknown) => string | undefined;
    type?: string;
  },
): Setting<T[]> {
  const parse = spec.parse ?? ((raw: string) => splitList(raw) as T[]);
  return setting({
    env: spec.env,
    key: spec.key,
    description: spec.description,
    type: spec.type ?? 'list',
    schema: z.array(z.string()),
    parse,
    // Parsed once here, so the default is written only in the form a user would write it.
    default:
      spec.default.length === 0
        ? []
        : parse(spec.default.join(','), { cwd: '.', report: new Report(), label: spec.env }),
    shownDefault: spec.default,
    ...(spec.fileText === undefined ? {} : { fileText: spec.fileText }),
  });
}

/** The settings of one area: one section of the config file and one table in docs/settings.md. */
export interface SettingArea<S extends Record<string, Setting<unknown>>> {
  /** Section of the config file (`cache:`); undefined for keys at the top of the file. */
  readonly section: string | undefined;
  /** Heading in docs/settings.md. */
  readonly title: string;
  /** Keyed by the config field they fill where there is one; in file (and docs) order. */
  readonly settings: S;
}

export function area<S extends Record<string, Setting<unknown>>>(
  spec: SettingArea<S>,
): SettingArea<S> {
  return spec;
}
