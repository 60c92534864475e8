import { normalizeHost } from '../common/http/normalize-host';

/** What the matcher needs of a route; `T` carries whatever the caller compiled for it. */
export interface MatchableRoute<T> {
  /** Normalised host pattern: `''` any, `a.example.com` exact, `*.example.com` wildcard. */
  host: string;
  /** Prefix beginning with `/` (`''` means `/`). */
  prefix: string;
  value: T;
}

export interface RouteMatch<T> {
  value: T;
  prefix: string;
  /** The path with the matched prefix removed (always starts with `/`). */
  rest: string;
}

interface Terminal<T> {
  readonly prefix: string;
  readonly value: T;
}

/**
 * One `/`-separated segment of a prefix. A node stands for the prefix made of the segments from
 * the root down to it (`/a/b` is root → `a` → `b`) and holds up to two routes:
 *
 * - `exact`: prefix `/a/b`, which matches `/a/b` and `/a/b/...`;
 * - `slash`: prefix `/a/b/`, which matches only `/a/b/...` (the path must go on past the node).
 *
 * Regex routes (the traffic-policies issue) belong here too: a node would keep, in file order,
 * the regex routes whose literal prefix ends at it, tried after its `exact` and `slash` routes
 * only when a lookup reaches the node, so they cost nothing on paths outside that prefix.
 */
interface PathNode<T> {
  exact: Terminal<T> | undefined;
  slash: Terminal<T> | undefined;
  /** Most nodes have one child: kept inline, so a lookup compares in place without a slice. */
  onlySegment: string | undefined;
  onlyChild: PathNode<T> | undefined;
  /** Two or more children, by segment. */
  children: Map<string, PathNode<T>> | undefined;
}

function newNode<T>(): PathNode<T> {
  return {
    exact: undefined,
    slash: undefined,
    onlySegment: undefined,
    onlyChild: undefined,
    children: undefined,
  };
}

/** A prefix as the trie stores it: its `/`-separated segments, and which kind of route ends it. */
interface Located {
  prefix: string;
  segments: string[];
  kind: 'exact' | 'slash';
}

function locate(prefix: string): Located {
  if (prefix === '') {
    prefix = '/';
  }
  if (prefix.charCodeAt(0) !== 47 /* / */) {
    throw new Error(`route prefix must start with "/", got ${JSON.stringify(prefix)}`);
  }
  const trailingSlash = prefix.charCodeAt(prefix.length - 1) === 47;
  const body = trailingSlash ? prefix.slice(0, -1) : prefix;
  const segments: string[] = [];
  for (let start = 1; start <= body.length;) {
    let end = body.indexOf('/', start);
    if (end === -1) {
      end = body.length;
    }
    segments.push(body.slice(start, end));
    start = end + 1;
  }
  return { prefix, segments, kind: trailingSlash ? 'slash' : 'exact' };
}

/**
 * The prefixes of one host bucket as a segment trie. A lookup walks the request path one segment
 * at a time and keeps the last route it passed, so its cost grows with the path's segments, not
 * with the number of routes; the deepest route passed is the longest prefix, because every step
 * down adds at least one character (`/a` < `/a/` < `/a/b`). A published trie is never changed:
 * `with` returns a copy that shares every node off the changed path.
 */
class PathTrie<T> {
  constructor(private readonly root: PathNode<T> = newNode<T>()) {}

  /**
   * Adds a route while the trie is being built (before anyone reads it); the first one declared
   * keeps a prefix (a later duplicate could never match). False for such a duplicate.
   */
  add(prefix: string, value: T, segments: Map<string, string>): boolean {
    const at = locate(prefix);
    let node = this.root;
    for (const raw of at.segments) {
      // One string per distinct segment however many prefixes repeat it (`v1`, `api`).
      let segment = segments.get(raw);
      if (segment === undefined) {
        segment = raw;
        segments.set(raw, raw);
      }
      node = childFor(node, segment);
    }
    if (node[at.kind] !== undefined) {
      return false;
    }
    node[at.kind] = { prefix: at.prefix, value };
    return true;
  }

  /**
   * A copy with the route `value` added at `prefix` (`add`) or removed from it. Undefined when
   * the change involves two routes with the same prefix (adding where one is, removing one that
   * is not there): declaration order decides those, which only a rebuild knows.
   */
  with(prefix: string, value: T, add: boolean): PathTrie<T> | undefined {
    const at = locate(prefix);
    const root = updated(this.root, at, 0, value, add);
    return root === null ? undefined : new PathTrie(root ?? newNode<T>());
  }

  get isEmpty(): boolean {
    return isEmptyNode(this.root);
  }

  /** `path` is canonical (starts with `/`, no `//`). */
  match(path: string): RouteMatch<T> | undefined {
    const len = path.length;
    let node = this.root;
    if (path.charCodeAt(0) !== 47 /* / */) {
      // Only `/` matches a path that is not one (none reaches here; kept for total behaviour).
      const all = node.slash;
      return all === undefined ? undefined : { value: all.value, prefix: all.prefix, rest: path };
    }
    let best: Terminal<T> | undefined;
    let bestAt = 0;
    let pos = 0; // path[0, pos) is the prefix `node` stands for; path[pos] is `/` or the end
    for (;;) {
      if (node.exact !== undefined) {
        best = node.exact;
        bestAt = pos;
      }
      if (pos === len) {
        break;
      }
      if (node.slash !== undefined) {
        best = node.slash;
        bestAt = pos;
      }
      const start = pos + 1;
      let next: PathNode<T> | undefined;
      let end: number;
      const only = node.onlySegment;
      if (only !== undefined) {
        end = start + only.length;
        if (
          end > len ||
          (end < len && path.charCodeAt(end) !== 47) ||
          !path.startsWith(only, start)
        ) {
          break;
        }
        next = node.onlyChild;
      } else if (node.children !== undefined) {
        end = path.indexOf('/', start);
        if (end === -1) {
          end = len;
        }
        next = node.children.get(path.slice(start, end));
      } else {
        break;
      }
      if (next === undefined) {
        break;
      }
      node = next;
      pos = end;
    }
    if (best === undefined) {
      return undefined;
    }
    return {
      value: best.value,
      prefix: best.prefix,
      rest: bestAt === len ? '/' : path.slice(bestAt),
    };
  }
}

function isEmptyNode<T>(node: PathNode<T>): boolean {
  return (
    node.exact === undefined &&
    node.slash === undefined &&
    node.onlyChild === undefined &&
    node.children === undefined
  );
}

function childOf<T>(node: PathNode<T>, segment: string): PathNode<T> | undefined {
  return node.children !== undefined
    ? node.children.get(segment)
    : node.onlySegment === segment
      ? node.onlyChild
      : undefined;
}

/**
 * `node` (or a new one) with the change applied `depth` segments below it, as a copy; the nodes
 * off the path are shared. Undefined when the result is empty; null when refused (see `with`).
 */
function updated<T>(
  node: PathNode<T> | undefined,
  at: Located,
  depth: number,
  value: T,
  add: boolean,
): PathNode<T> | undefined | null {
  const copy: PathNode<T> = node === undefined ? newNode<T>() : { ...node };
  if (depth === at.segments.length) {
    const current = copy[at.kind];
    if (add ? current !== undefined : current?.value !== value) {
      return null;
    }
    copy[at.kind] = add ? { prefix: at.prefix, value } : undefined;
  } else {
    const segment = at.segments[depth];
    const child = updated(
      node === undefined ? undefined : childOf(node, segment),
      at,
      depth + 1,
      value,
      add,
    );
    if (child === null) {
      return null;
    }
    setChild(copy, segment, child);
  }
  return isEmptyNode(copy) ? undefined : copy;
}

/** Sets (or with `child` undefined, removes) a child of a node copy, copying its Map first. */
function setChild<T>(copy: PathNode<T>, segment: string, child: PathNode<T> | undefined): void {
  if (copy.children !== undefined) {
    const children = new Map(copy.children);
    if (child === undefined) {
      children.delete(segment);
    } else {
      children.set(segment, child);
    }
    copy.children = children.size > 0 ? children : undefined;
  } else if (copy.onlySegment === segment || copy.onlySegment === undefined) {
    copy.onlySegment = child === undefined ? undefined : segment;
    copy.onlyChild = child;
  } else if (child !== undefined) {
    copy.children = new Map([
      [copy.onlySegment, copy.onlyChild!],
      [segment, child],
    ]);
    copy.onlySegment = undefined;
    copy.onlyChild = undefined;
  }
}

function childFor<T>(node: PathNode<T>, segment: string): PathNode<T> {
  if (node.children !== undefined) {
    let child = node.children.get(segment);
    if (child === undefined) {
      child = newNode();
      node.children.set(segment, child);
    }
    return child;
  }
  if (node.onlySegment === undefined) {
    const child = newNode<T>();
    node.onlySegment = segment;
    node.onlyChild = child;
    return child;
  }
  if (node.onlySegment === segment) {
    return node.onlyChild!;
  }
  const child = newNode<T>();
  node.children = new Map([
    [node.onlySegment, node.onlyChild!],
    [segment, child],
  ]);
  node.onlySegment = undefined;
  node.onlyChild = undefined;
  return child;
}

/**
 * Builds a {@link RouteMatcher} one route at a time, so a large table can be built in slices
 * between which other work runs (the routes are only read, and the matcher only exists once
 * `build()` returns). Same precedence as building from the whole list at once.
 */
/** A matcher's tries: by exact host, by wildcard suffix, and for any host. */
interface Buckets<T> {
  exact: ReadonlyMap<string, PathTrie<T>>;
  wildcards: ReadonlyMap<string, PathTrie<T>>;
  any: PathTrie<T>;
  /** A route was shadowed by an earlier one with the same host and prefix. */
  shadowed: boolean;
}

export class RouteMatcherBuilder<T> implements Buckets<T> {
  readonly exact = new Map<string, PathTrie<T>>();
  /** By suffix: `.example.com` for `*.example.com`. */
  readonly wildcards = new Map<string, PathTrie<T>>();
  readonly any = new PathTrie<T>();
  shadowed = false;
  private readonly segments = new Map<string, string>();
  private built = false;

  add(route: MatchableRoute<T>): void {
    if (this.built) {
      throw new Error('RouteMatcherBuilder: add() after build()');
    }
    const host = route.host;
    let trie: PathTrie<T> | undefined;
    if (host === '' || host === '*') {
      trie = this.any;
    } else {
      const bucket = host.startsWith('*.') ? this.wildcards : this.exact;
      const key = host.startsWith('*.') ? host.slice(1) : host;
      trie = bucket.get(key);
      if (trie === undefined) {
        trie = new PathTrie<T>();
        bucket.set(key, trie);
      }
    }
    if (!trie.add(route.prefix, route.value, this.segments)) {
      this.shadowed = true;
    }
  }

  build(): RouteMatcher<T> {
    this.built = true;
    this.segments.clear();
    return new RouteMatcher<T>(this);
  }
}

/**
 * A route table compiled once (at boot or on reload) into host buckets, each a segment trie of
 * its prefixes, so a lookup costs a Map.get per host bucket tried plus one step per path segment,
 * whatever the number of routes. Precedence follows the Go gateway: exact host > longest `*.`
 * wildcard > any host, and a host bucket none of whose prefixes match falls through to the next;
 * within a host, the longest prefix on a `/` segment boundary (`/api/v1` never matches
 * `/api/v11`).
 */
export class RouteMatcher<T> {
  private readonly exact: ReadonlyMap<string, PathTrie<T>>;
  private readonly wildcards: ReadonlyMap<string, PathTrie<T>>;
  private readonly any: PathTrie<T>;
  private readonly shadowed: boolean;

  /** From the whole list (declaration order decides between equal prefixes), or a builder. */
  constructor(routes: readonly MatchableRoute<T>[] | Buckets<T>) {
    let buckets: Buckets<T>;
    if (Array.isArray(routes)) {
      const builder = new RouteMatcherBuilder<T>();
      for (const route of routes as readonly MatchableRoute<T>[]) {
        builder.add(route);
      }
      buckets = builder;
    } else {
      buckets = routes as Buckets<T>;
    }
    this.exact = buckets.exact;
    this.wildcards = buckets.wildcards;
    this.any = buckets.any;
    this.shadowed = buckets.shadowed;
  }

  /**
   * A new matcher with `removed` taken out and `added` put in (each `value` compared by
   * identity), sharing everything else with this one, which stays as it is: a few routes changed
   * in a large table cost a few copied nodes, not a rebuild. Undefined when a change involves two
   * routes with the same host and prefix, or when this matcher holds such a pair (declaration
   * order decides those, and a route removed may uncover one it shadowed: rebuild instead).
   */
  withChanges(
    removed: readonly MatchableRoute<T>[],
    added: readonly MatchableRoute<T>[],
  ): RouteMatcher<T> | undefined {
    if (this.shadowed) {
      return undefined;
    }
    const next: Buckets<T> = {
      exact: this.exact,
      wildcards: this.wildcards,
      any: this.any,
      shadowed: false,
    };
    const copied = new Set<ReadonlyMap<string, PathTrie<T>>>();
    const apply = (route: MatchableRoute<T>, add: boolean): boolean => {
      const host = route.host;
      if (host === '' || host === '*') {
        const trie = next.any.with(route.prefix, route.value, add);
        next.any = trie ?? next.any;
        return trie !== undefined;
      }
      const which = host.startsWith('*.') ? 'wildcards' : 'exact';
      const key = which === 'wildcards' ? host.slice(1) : host;
      let bucket = next[which];
      if (!copied.has(bucket)) {
        bucket = new Map(bucket);
        copied.add(bucket);
        next[which] = bucket;
      }
      const trie = (bucket.get(key) ?? new PathTrie<T>()).with(route.prefix, route.value, add);
      if (trie === undefined) {
        return false;
      }
      const map = bucket as Map<string, PathTrie<T>>;
      if (trie.isEmpty) {
        map.delete(key);
      } else {
        map.set(key, trie);
      }
      return true;
    };
    for (const route of removed) {
      if (!apply(route, false)) {
        return undefined;
      }
    }
    for (const route of added) {
      if (!apply(route, true)) {
        return undefined;
      }
    }
    return new RouteMatcher(next);
  }

  /**
   * Whether a route with an explicit host matches `rawHost`, exactly or through a `*.` wildcard
   * (whatever the path): the host buckets are exactly the hosts routes claim.
   */
  claimsHost(rawHost: string | undefined): boolean {
    if (this.exact.size === 0 && this.wildcards.size === 0) {
      return false;
    }
    const host = normalizeHost(rawHost);
    if (this.exact.has(host)) {
      return true;
    }
    for (let dot = host.indexOf('.', 1); dot !== -1; dot = host.indexOf('.', dot + 1)) {
      if (this.wildcards.has(host.slice(dot))) {
        return true;
      }
    }
    return false;
  }

  /** `rawHost` is the Host header as received; `path` must already be canonical. */
  match(rawHost: string | undefined, path: string): RouteMatch<T> | undefined {
    const host = normalizeHost(rawHost);
    const exact = this.exact.get(host);
    if (exact !== undefined) {
      const hit = exact.match(path);
      if (hit !== undefined) {
        return hit;
      }
    }
    if (this.wildcards.size > 0) {
      // Each `.` after the first character starts a candidate suffix, longest first. Never at 0:
      // `*.example.com` needs a label before `.example.com`, so it does not match `example.com`.
      for (let dot = host.indexOf('.', 1); dot !== -1; dot = host.indexOf('.', dot + 1)) {
        const hit = this.wildcards.get(host.slice(dot))?.match(path);
        if (hit !== undefined) {
          return hit;
        }
      }
    }
    return this.any.match(path);
  }
}
