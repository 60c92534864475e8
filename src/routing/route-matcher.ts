import { normalizeHost } from '../common/http/normalize-host';

/** What the matcher needs of a route; `T` carries whatever the caller compiled for it. */
export interface MatchableRoute<T> {
  /** Normalised host pattern: `''` any, `a.example.com` exact, `*.example.com` wildcard. */
  host: string;
  /** Prefix beginning with `/`. */
  prefix: string;
  value: T;
}

export interface RouteMatch<T> {
  value: T;
  prefix: string;
  /** The path with the matched prefix removed (always starts with `/`). */
  rest: string;
}

interface Entry<T> {
  prefix: string;
  /** Prefix `''`/`/` matches every path. */
  matchesAll: boolean;
  prefixEndsWithSlash: boolean;
  value: T;
}

interface WildcardGroup<T> {
  /** `.example.com` for `*.example.com`. */
  suffix: string;
  entries: Entry<T>[];
}

/**
 * A route table compiled once (at boot or on reload) into host buckets, each sorted by prefix
 * length, so a lookup is one Map.get plus a short scan. Precedence follows the Go gateway: exact
 * host > longest `*.` wildcard > any host; within a host, the longest prefix on a `/` segment
 * boundary (`/api/v1` never matches `/api/v11`).
 */
export class RouteMatcher<T> {
  private readonly exact = new Map<string, Entry<T>[]>();
  private readonly wildcards: WildcardGroup<T>[] = [];
  private readonly any: Entry<T>[] = [];

  constructor(routes: readonly MatchableRoute<T>[]) {
    const wild = new Map<string, Entry<T>[]>();
    for (const route of routes) {
      const prefix = route.prefix === '' ? '/' : route.prefix;
      const entry: Entry<T> = {
        prefix,
        matchesAll: prefix === '/',
        prefixEndsWithSlash: prefix.endsWith('/'),
        value: route.value,
      };
      const host = route.host;
      if (host === '' || host === '*') {
        this.any.push(entry);
      } else if (host.startsWith('*.')) {
        const suffix = host.slice(1);
        wild.set(suffix, [...(wild.get(suffix) ?? []), entry]);
      } else {
        this.exact.set(host, [...(this.exact.get(host) ?? []), entry]);
      }
    }
    for (const entries of this.exact.values()) {
      sortByPrefix(entries);
    }
    for (const [suffix, entries] of wild) {
      this.wildcards.push({ suffix, entries: sortByPrefix(entries) });
    }
    this.wildcards.sort((a, b) => b.suffix.length - a.suffix.length);
    sortByPrefix(this.any);
  }

  /** `rawHost` is the Host header as received; `path` must already be canonical. */
  match(rawHost: string | undefined, path: string): RouteMatch<T> | undefined {
    const host = normalizeHost(rawHost);
    const exact = this.exact.get(host);
    if (exact) {
      const hit = matchPath(exact, path);
      if (hit) {
        return hit;
      }
    }
    for (const group of this.wildcards) {
      // Strictly longer than the suffix: `*.example.com` does not match `example.com`.
      if (host.length > group.suffix.length && host.endsWith(group.suffix)) {
        const hit = matchPath(group.entries, path);
        if (hit) {
          return hit;
        }
      }
    }
    return matchPath(this.any, path);
  }
}

function sortByPrefix<T>(entries: Entry<T>[]): Entry<T>[] {
  // Stable sort keeps declaration order among equal lengths.
  return entries.sort((a, b) => b.prefix.length - a.prefix.length);
}

function matchPath<T>(entries: Entry<T>[], path: string): RouteMatch<T> | undefined {
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (e.matchesAll) {
      return { value: e.value, prefix: e.prefix, rest: path };
    }
    if (!path.startsWith(e.prefix)) {
      continue;
    }
    const n = e.prefix.length;
    if (path.length === n) {
      return { value: e.value, prefix: e.prefix, rest: '/' };
    }
    if (e.prefixEndsWithSlash) {
      return { value: e.value, prefix: e.prefix, rest: path.slice(n - 1) };
    }
    if (path.charCodeAt(n) === 47 /* / */) {
      return { value: e.value, prefix: e.prefix, rest: path.slice(n) };
    }
  }
  return undefined;
}
