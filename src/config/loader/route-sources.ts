/**
 * Where routes come from, each turned into a draft in config-file shape that names its fields for
 * problem lines: the config file's `routes`, `SERVICE_ROUTES` (JSON) and `ROUTE_<NAME>_<SUFFIX>`.
 */
import {
  closestMatch,
  collectEach,
  errorMessage,
  parseAlgorithm,
  parseFailureStatuses,
  parseGoBool,
  parseStrictInt,
  splitList,
} from '../env-parsers';
import { routeFileSchema, type RouteFileEntry } from '../gateway-config.schema';
import { ROUTE_AUTH_METHODS, type RouteAuthMethod } from '../gateway-config.types';
import type { Report } from './report';
import {
  formatPath,
  isPlainObject,
  type Lenient,
  parseLeniently,
  type PathSegment,
  reportIssues,
} from './schema-issues';
import type { Env } from './settings';

/** `ROUTE_<NAME>_<SUFFIX>` suffixes and the file key each one sets. */
const ENV_ROUTE_SUFFIXES = {
  URL: 'target_url',
  TARGETS: 'targets',
  PREFIX: 'prefix',
  HOST: 'host',
  STRIP_PREFIX: 'strip_prefix',
  REQUIRE_AUTH: 'require_auth',
  AUTH: 'auth',
  HIDE_CREDENTIALS: 'hide_credentials',
  WEIGHT: 'weight',
  WEIGHTS: 'weights',
  TIMEOUT_SECS: 'timeout_secs',
  HEALTH_PATH: 'health_path',
  PRESERVE_HOST: 'preserve_host',
  ALGORITHM: 'algorithm',
  MAX_BODY_SIZE: 'max_body_size',
  FAILURE_STATUSES: 'failure_statuses',
} as const satisfies Record<string, Exclude<keyof RouteFileEntry, 'name'>>;
type EnvRouteSuffix = keyof typeof ENV_ROUTE_SUFFIXES;
export type RouteKey = keyof RouteFileEntry;

// Longest first, so ROUTE_X_STRIP_PREFIX is route X with STRIP_PREFIX, not route X_STRIP.
const SUFFIXES_LONGEST_FIRST = (Object.keys(ENV_ROUTE_SUFFIXES) as EnvRouteSuffix[]).sort(
  (a, b) => b.length - a.length,
);
const SUFFIX_BY_KEY = new Map(
  (Object.entries(ENV_ROUTE_SUFFIXES) as [EnvRouteSuffix, RouteKey][]).map(([suffix, key]) => [
    key,
    suffix,
  ]),
);
const ROUTE_KEYS = Object.keys(routeFileSchema.shape) as RouteKey[];

/** A route from any source, in file shape, with what is needed to name its fields in problems. */
export interface RouteDraft {
  /** `gw.yaml: routes[0]`, `SERVICE_ROUTES[2]` or `ROUTE_BILLING`. */
  origin: string;
  field: (key: RouteKey, index?: number) => string;
  entry: RouteFileEntry;
  /** Keys removed because their value was invalid (already reported). */
  dropped: ReadonlySet<string>;
  /** Go's defaults differ by source: false for JSON routes, true for `ROUTE_` env routes. */
  stripPrefixDefault: boolean;
  noUpstreamHint: string;
}

export function jsonRouteDraft(
  { value: entry, dropped }: Lenient<RouteFileEntry>,
  at: (...path: PathSegment[]) => string,
): RouteDraft {
  return {
    origin: at(),
    field: (key, index) => (index === undefined ? at(key) : at(key, index)),
    entry,
    dropped,
    stripPrefixDefault: false,
    noUpstreamHint: 'set target_url or targets',
  };
}

/**
 * `SERVICE_ROUTES`: a JSON array of route objects. Keys match case-insensitively like Go's
 * encoding/json (`Target_URL` is `target_url`); unlike Go, unknown keys and type errors are
 * reported per field instead of dropping the whole array.
 */
export function serviceRouteDrafts(env: Env, report: Report): RouteDraft[] {
  const text = env.SERVICE_ROUTES?.trim();
  if (text === undefined || text === '') {
    return [];
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    report.problem('SERVICE_ROUTES', `invalid JSON (${errorMessage(error)})`);
    return [];
  }
  if (!Array.isArray(parsed)) {
    report.problem(
      'SERVICE_ROUTES',
      'expected a JSON array of routes, e.g. [{"prefix":"/api","target_url":"http://10.0.0.5:8080"}]',
    );
    return [];
  }
  return parsed.flatMap((item: unknown, index): RouteDraft[] => {
    const at = (...path: PathSegment[]) => `SERVICE_ROUTES${formatPath([index, ...path])}`;
    if (!isPlainObject(item)) {
      report.problem(at(), 'expected a JSON object');
      return [];
    }
    const folded = foldRouteKeys(item, at, report);
    const checked = routeFileSchema.safeParse(folded);
    if (!checked.success) {
      reportIssues(checked.error, routeFileSchema, (path) => at(...path), report);
    }
    const parsed = parseLeniently(routeFileSchema, folded);
    return parsed === undefined ? [] : [jsonRouteDraft(parsed, at)];
  });
}

/** Renames keys to their canonical spelling: exact match first, then case-insensitive, as Go. */
function foldRouteKeys(
  item: Record<string, unknown>,
  at: (...path: PathSegment[]) => string,
  report: Report,
): Record<string, unknown> {
  const folded: Record<string, unknown> = {};
  const spelledAs = new Map<string, string>();
  for (const [key, value] of Object.entries(item)) {
    // Go leaves a field at its zero value for null; here that is the field's default.
    if (value === null) {
      continue;
    }
    const canonical =
      ROUTE_KEYS.find((candidate) => candidate === key) ??
      ROUTE_KEYS.find((candidate) => candidate.toLowerCase() === key.toLowerCase()) ??
      key;
    const previous = spelledAs.get(canonical);
    if (previous !== undefined) {
      report.problem(at(key), `duplicates "${previous}" (keys are case-insensitive)`);
      continue;
    }
    spelledAs.set(canonical, key);
    folded[canonical] = value;
  }
  return folded;
}

/**
 * `ROUTE_<NAME>_<SUFFIX>` variables. The name may contain underscores; the longest matching suffix
 * wins; names are registered in byte order; the route name is the lower-cased NAME.
 */
export function envRouteDrafts(env: Env, report: Report): RouteDraft[] {
  const byName = new Map<string, Map<EnvRouteSuffix, string>>();
  for (const [variable, value] of Object.entries(env)) {
    if (!variable.startsWith('ROUTE_') || value === undefined || value.trim() === '') {
      continue;
    }
    const rest = variable.slice('ROUTE_'.length);
    const suffix = SUFFIXES_LONGEST_FIRST.find(
      (candidate) => rest.length > candidate.length + 1 && rest.endsWith(`_${candidate}`),
    );
    if (suffix === undefined) {
      report.problem(variable, `unknown route setting (${unknownSuffixHint(rest)})`);
      continue;
    }
    const name = rest.slice(0, rest.length - suffix.length - 1);
    const fields = byName.get(name) ?? new Map<EnvRouteSuffix, string>();
    fields.set(suffix, value.trim());
    byName.set(name, fields);
  }

  // Plain comparison rather than localeCompare: Go's sort.Strings orders by bytes.
  const names = [...byName.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return names.map((name) => {
    const fields = byName.get(name) ?? new Map<EnvRouteSuffix, string>();
    const variable = (suffix: EnvRouteSuffix) => `ROUTE_${name}_${suffix}`;
    const read = <T>(suffix: EnvRouteSuffix, parse: (raw: string) => T): T | undefined => {
      const raw = fields.get(suffix);
      return raw === undefined ? undefined : report.attempt(variable(suffix), () => parse(raw));
    };
    const entry: RouteFileEntry = {
      name: name.toLowerCase(),
      host: fields.get('HOST'),
      prefix: fields.get('PREFIX'),
      target_url: fields.get('URL'),
      targets: read('TARGETS', splitList),
      strip_prefix: read('STRIP_PREFIX', parseGoBool),
      require_auth: read('REQUIRE_AUTH', parseGoBool),
      auth: read('AUTH', parseAuthMethods),
      hide_credentials: read('HIDE_CREDENTIALS', parseGoBool),
      weight: read('WEIGHT', nonNegativeInt),
      weights: read('WEIGHTS', (raw) => collectEach(splitList(raw), nonNegativeInt)),
      timeout_secs: read('TIMEOUT_SECS', nonNegativeInt),
      health_path: fields.get('HEALTH_PATH'),
      preserve_host: read('PRESERVE_HOST', parseGoBool),
      algorithm: read('ALGORITHM', parseAlgorithm),
      max_body_size: read('MAX_BODY_SIZE', nonNegativeInt),
      failure_statuses: read('FAILURE_STATUSES', (raw) =>
        parseFailureStatuses(raw, { allowNone: false }),
      ),
    };
    return {
      origin: `ROUTE_${name}`,
      field: (key) => {
        const suffix = SUFFIX_BY_KEY.get(key);
        return suffix === undefined ? `ROUTE_${name}` : variable(suffix);
      },
      entry,
      dropped: new Set(),
      stripPrefixDefault: true,
      noUpstreamHint: `set ${variable('URL')} or ${variable('TARGETS')}`,
    };
  });
}

function unknownSuffixHint(rest: string): string {
  // Try every split point from the right, so ROUTE_MY_API_URLL suggests ROUTE_MY_API_URL.
  for (let i = rest.lastIndexOf('_'); i > 0; i = rest.lastIndexOf('_', i - 1)) {
    const match = closestMatch(rest.slice(i + 1), SUFFIXES_LONGEST_FIRST);
    if (match !== undefined) {
      return `did you mean ROUTE_${rest.slice(0, i)}_${match}?`;
    }
  }
  return `expected ROUTE_<NAME>_<${Object.keys(ENV_ROUTE_SUFFIXES).join('|')}>`;
}

/** `jwt,api_key`: the methods of `ROUTE_<NAME>_AUTH`, comma or space separated. */
function parseAuthMethods(raw: string): RouteAuthMethod[] {
  return collectEach(splitList(raw), (method) => {
    const known = ROUTE_AUTH_METHODS.find((m) => m === method.toLowerCase());
    if (known === undefined) {
      throw new Error(
        `unknown auth method ${JSON.stringify(method)} (expected ${ROUTE_AUTH_METHODS.join('|')})`,
      );
    }
    return known;
  });
}

function nonNegativeInt(raw: string): number {
  const n = parseStrictInt(raw);
  if (n < 0) {
    throw new Error(`must be >= 0, got ${n}`);
  }
  return n;
}
