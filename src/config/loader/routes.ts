/**
 * Route normalisation: drafts from every source become {@link RouteConfig}s with Go's semantics
 * (upstream lists and weights, timeouts, derived names), and conflicts are reported.
 */
import { MAX_TIMER_MS, parseGoDuration } from '../duration';
import { normalizeUpstream, parseHostPattern } from '../env-parsers';
import { routeFileSchema } from '../gateway-config.schema';
import { ROUTE_AUTH_METHODS, type RouteConfig, type UpstreamConfig } from '../gateway-config.types';
import type { LoadedFile } from './config-file';
import { Report } from './report';
import {
  envRouteDrafts,
  jsonRouteDraft,
  type RouteDraft,
  serviceRouteDrafts,
} from './route-sources';
import {
  formatPath,
  isPlainObject,
  parseLeniently,
  type PathSegment,
  reportIssues,
} from './schema-issues';
import { type Env, withDefined } from './settings';
import { maskUrl } from '../../common/http/url-display';

interface BuiltRoute {
  origin: string;
  route: Omit<RouteConfig, 'name'> & { name?: string };
}

export function loadRoutes(
  env: Env,
  file: LoadedFile | undefined,
  connectionTimeoutMs: number,
  report: Report,
): RouteConfig[] {
  const drafts = [
    ...(file?.routes.map(({ index, parsed }) => {
      const at = (...path: PathSegment[]) =>
        `${file.label}: ${formatPath(['routes', index, ...path])}`;
      return jsonRouteDraft(parsed, at);
    }) ?? []),
    ...serviceRouteDrafts(env, report),
    ...envRouteDrafts(env, report),
  ];
  const built = drafts.flatMap((draft) => {
    const route = buildRoute(draft, connectionTimeoutMs, report);
    return route === undefined ? [] : [{ origin: draft.origin, route }];
  });
  const routes = assignNames(built, report);
  checkConflicts(routes, report);
  return routes.map(({ route }) => route);
}

/**
 * Validates and builds routes given in config-file form (`routes:` entries, e.g. from the admin
 * API) with exactly the config file's rules: schema, host/prefix/upstream checks, derived names,
 * duplicate names and host+prefix conflicts. Problems are `<label>[i].<field>: <message>` lines.
 */
export function buildRoutesFromEntries(
  entries: readonly unknown[],
  connectionTimeoutMs: number,
  label = 'routes',
): { ok: true; routes: RouteConfig[]; warnings: string[] } | { ok: false; problems: string[] } {
  const report = new Report();
  const drafts = entries.flatMap((item: unknown, index): RouteDraft[] => {
    const at = (...path: PathSegment[]) => `${label}${formatPath([index, ...path])}`;
    if (!isPlainObject(item)) {
      report.problem(at(), 'expected a JSON object');
      return [];
    }
    const checked = routeFileSchema.safeParse(item);
    if (!checked.success) {
      reportIssues(checked.error, routeFileSchema, (path) => at(...path), report);
    }
    const parsed = parseLeniently(routeFileSchema, item);
    return parsed === undefined ? [] : [jsonRouteDraft(parsed, at)];
  });
  const built = drafts.flatMap((draft) => {
    const route = buildRoute(draft, connectionTimeoutMs, report);
    return route === undefined ? [] : [{ origin: draft.origin, route }];
  });
  const routes = assignNames(built, report);
  checkConflicts(routes, report);
  if (report.problems.length > 0) {
    return { ok: false, problems: report.problems };
  }
  return { ok: true, routes: routes.map(({ route }) => route), warnings: report.warnings };
}

/** Applies Go's route semantics to one draft; every problem is reported with its field. */
function buildRoute(
  draft: RouteDraft,
  connectionTimeoutMs: number,
  report: Report,
): BuiltRoute['route'] | undefined {
  const { entry, field } = draft;
  const problemsBefore = report.problems.length;

  const host = report.attempt(field('host'), () => parseHostPattern(entry.host ?? '')) ?? '';

  const prefix = (entry.prefix ?? '').trim() || '/';
  if (!prefix.startsWith('/') || /[\s?#]/.test(prefix)) {
    report.problem(
      field('prefix'),
      `invalid prefix ${JSON.stringify(entry.prefix)} (expected a path starting with "/", without query or spaces)`,
    );
  }

  const healthPath = entry.health_path?.trim() || undefined;
  if (healthPath !== undefined && !healthPath.startsWith('/')) {
    report.problem(field('health_path'), `must start with "/", got ${JSON.stringify(healthPath)}`);
  }

  const upstreams = buildUpstreams(draft, report);

  const auth = entry.auth;
  if (auth !== undefined) {
    if (auth.length === 0) {
      report.problem(field('auth'), `list at least one method (${ROUTE_AUTH_METHODS.join(', ')})`);
    } else if (new Set(auth).size !== auth.length) {
      report.problem(field('auth'), `lists a method twice: ${JSON.stringify(auth)}`);
    }
    if (entry.require_auth !== true) {
      report.problem(
        field('auth'),
        'chooses the credentials of a require_auth route; set require_auth: true, or remove it',
      );
    }
  }

  const timeoutSecs = entry.timeout_secs ?? 0;
  // 0/absent means CONNECTION_TIMEOUT; Go used 1 hour, which made that variable dead (D7).
  const timeoutMs = timeoutSecs > 0 ? timeoutSecs * 1000 : connectionTimeoutMs;
  if (timeoutMs > MAX_TIMER_MS) {
    report.problem(field('timeout_secs'), `must be at most ${Math.floor(MAX_TIMER_MS / 1000)}`);
  }

  if (report.problems.length > problemsBefore) {
    return undefined;
  }
  // Assigned field by field: spread literals (`...(x ? { k } : {})`) cost a temporary object and a
  // generic copy each, which for a table of 20,000 routes was a quarter of the load's time.
  const route: BuiltRoute['route'] = {
    host,
    prefix,
    upstreams,
    stripPrefix: entry.strip_prefix ?? draft.stripPrefixDefault,
    requireAuth: entry.require_auth ?? false,
    timeoutMs,
    preserveHost: entry.preserve_host ?? false,
  };
  const name = entry.name?.trim().toLowerCase();
  if (name) {
    route.name = name;
  }
  if (auth !== undefined) {
    route.auth = [...auth];
  }
  if (entry.hide_credentials === true) {
    route.hideCredentials = true;
  }
  if (healthPath !== undefined) {
    route.healthPath = healthPath;
  }
  if (entry.algorithm !== undefined) {
    route.algorithm = entry.algorithm;
  }
  if (entry.rate_limit !== undefined) {
    route.rateLimit = {
      rate: entry.rate_limit.rate,
      // One second's worth of requests, so `rate: 5` alone behaves as "5 per second".
      burst: entry.rate_limit.burst ?? Math.max(1, Math.ceil(entry.rate_limit.rate)),
      key: entry.rate_limit.key ?? 'ip',
    };
  }
  if (entry.max_body_size !== undefined) {
    route.maxBodyBytes = entry.max_body_size;
  }
  if (entry.failure_statuses !== undefined) {
    route.failureStatuses = entry.failure_statuses;
  }
  if (entry.cache !== undefined) {
    route.cache = {
      enabled: entry.cache.enabled ?? true,
      ...withDefined(
        'ttlMs',
        entry.cache.ttl === undefined ? undefined : parseGoDuration(entry.cache.ttl),
      ),
      allowSetCookie: entry.cache.allow_set_cookie ?? false,
    };
  }
  if (entry.security_headers !== undefined) {
    route.securityHeaders = { ...entry.security_headers };
  }
  return route;
}

/**
 * The upstream list is `[target_url, ...targets]`, normalised like Go's `normalizeUpstream`, with
 * duplicates dropped (first wins, with a warning).
 *
 * Weights (D22): `weights[i]` belongs to position `i` of that merged list, counted before invalid
 * or duplicate entries are dropped. So with `target_url` set, `weights[0]` is target_url's weight
 * and `weights[1]` the first target's; without it, `weights[0]` is the first target's. An entry
 * that is missing or 0 falls back to `weight`, then 1. More weights than entries is an error, which
 * catches the common off-by-one of writing weights for `targets` only.
 */
function buildUpstreams(draft: RouteDraft, report: Report): UpstreamConfig[] {
  const { entry, field } = draft;
  const targetUrl = entry.target_url?.trim() ? entry.target_url : undefined;
  // Where each came from (`field`), spelled out only when there is something to report.
  const raw: { value: string; index?: number; failureStatuses?: number[] }[] = [];
  if (targetUrl !== undefined) {
    raw.push({ value: targetUrl });
  }
  (entry.targets ?? []).forEach((target, index) => {
    if (typeof target === 'string') {
      raw.push({ value: target, index });
    } else {
      const item: (typeof raw)[number] = { value: target.url, index };
      if (target.failure_statuses !== undefined) {
        item.failureStatuses = target.failure_statuses;
      }
      raw.push(item);
    }
  });
  if (raw.length === 0) {
    // An invalid target_url/targets was reported already; "no upstream" would only repeat it.
    if (!draft.dropped.has('target_url') && !draft.dropped.has('targets')) {
      report.problem(draft.origin, `no upstream (${draft.noUpstreamHint})`);
    }
    return [];
  }
  const weights = entry.weights ?? [];
  if (weights.length > raw.length) {
    report.problem(
      field('weights'),
      `${weights.length} weights for ${raw.length} upstreams; weights index [target_url, ...targets]`,
    );
  }

  const fallbackWeight = entry.weight !== undefined && entry.weight > 0 ? entry.weight : 1;
  const upstreams: UpstreamConfig[] = [];
  const label = (index: number | undefined): string =>
    index === undefined ? field('target_url') : field('targets', index);
  raw.forEach(({ value, index: at, failureStatuses }, index) => {
    const url = report.attempt(
      () => label(at),
      () => normalizeUpstream(value),
    );
    if (url === undefined) {
      return;
    }
    if (upstreams.some((upstream) => upstream.url === url)) {
      report.warn(`${label(at)}: duplicate upstream ${JSON.stringify(maskUrl(url))} dropped`);
      return;
    }
    const weight = weights[index] ?? 0;
    const upstream: UpstreamConfig = { url, weight: weight > 0 ? weight : fallbackWeight };
    if (failureStatuses !== undefined) {
      upstream.failureStatuses = failureStatuses;
    }
    upstreams.push(upstream);
  });
  return upstreams;
}

/** Unnamed routes get a name from host and prefix (`api-users`), made unique with `-2`, `-3`. */
function assignNames(
  built: BuiltRoute[],
  report: Report,
): { origin: string; route: RouteConfig }[] {
  const origins = new Map<string, string[]>();
  for (const { origin, route } of built) {
    if (route.name !== undefined) {
      origins.set(route.name, [...(origins.get(route.name) ?? []), origin]);
    }
  }
  for (const [name, from] of origins) {
    if (from.length > 1) {
      report.problem('routes', `name ${JSON.stringify(name)} is used by ${from.join(' and ')}`);
    }
  }
  return built.map(({ origin, route }) => {
    let name = route.name;
    if (name === undefined) {
      const base =
        `${route.host.replace(/^\*\./, 'wildcard.')}${route.prefix}`
          .replace(/[^a-z0-9]+/g, '-')
          .replace(/^-+|-+$/g, '') || 'root';
      name = base;
      for (let n = 2; origins.has(name); n++) {
        name = `${base}-${n}`;
      }
      origins.set(name, [origin]);
    }
    // The route was built for this table alone: named in place rather than copied.
    route.name = name;
    return { origin, route: route as RouteConfig };
  });
}

/**
 * A prefix without its trailing slashes: two routes on one host with the same bare prefix match
 * the same paths (see the check below).
 */
export function barePrefix(prefix: string): string {
  return prefix.length > 1 ? prefix.replace(/\/+$/, '') || '/' : prefix;
}

/**
 * Two routes with the same host and prefix: the second could never match (Go kept both). Two
 * whose prefixes differ only by a trailing slash (`/api/users` and `/api/users/`) are refused
 * too: prefixes match on segment boundaries, so `/api/users` already covers `/api/users/…`, and
 * the pair would split one path's traffic (`/api/users` to one, `/api/users/x` to the other).
 */
function checkConflicts(routes: { route: RouteConfig }[], report: Report): void {
  const firstByKey = new Map<string, RouteConfig>();
  const firstBySegments = new Map<string, RouteConfig>();
  for (const { route } of routes) {
    const host = JSON.stringify(route.host || '*');
    const key = `${route.host}\n${route.prefix}`;
    const first = firstByKey.get(key);
    if (first !== undefined) {
      report.problem(
        'routes',
        `${JSON.stringify(first.name)} and ${JSON.stringify(route.name)} both match host ${host} prefix ${JSON.stringify(route.prefix)}`,
      );
      continue;
    }
    firstByKey.set(key, route);
    const segmentsKey = `${route.host}\n${barePrefix(route.prefix)}`;
    const other = firstBySegments.get(segmentsKey);
    if (other === undefined) {
      firstBySegments.set(segmentsKey, route);
      continue;
    }
    const [withSlash, without] =
      other.prefix.length > route.prefix.length ? [other, route] : [route, other];
    report.problem(
      'routes',
      `${JSON.stringify(without.name)} (prefix ${JSON.stringify(without.prefix)}) and ${JSON.stringify(withSlash.name)} (prefix ${JSON.stringify(withSlash.prefix)}) on host ${host} differ only by a trailing slash: ${without.prefix} would go to ${JSON.stringify(without.name)} and ${withSlash.prefix}x to ${JSON.stringify(withSlash.name)}; keep one (${JSON.stringify(without.prefix)} already covers ${without.prefix}/…)`,
    );
  }
}
