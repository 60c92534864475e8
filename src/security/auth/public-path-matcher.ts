/**
 * `PUBLIC_PATHS`, compiled once: paths that never need authentication.
 *
 * An entry is an exact path (`/login`) or an explicit prefix ending in `/*` (`/public/*`, which
 * covers `/public/` and everything below it). Unlike the Go gateway's bare `HasPrefix`, `/health`
 * never makes `/healthz` public, and `/public/*` does not cover `/publicity` or even `/public`
 * (list `/public` too when it should be public).
 *
 * Match against the canonical request path (after `.`/`..` resolution), the one that is routed.
 */
export class PublicPathMatcher {
  private readonly exact: ReadonlySet<string>;
  /** Prefixes with their trailing `/`, e.g. `/public/`. */
  private readonly prefixes: readonly string[];

  constructor(entries: readonly string[]) {
    this.exact = new Set(entries.filter((entry) => !entry.endsWith('/*')));
    this.prefixes = entries.filter((entry) => entry.endsWith('/*')).map((p) => p.slice(0, -1));
  }

  matches(path: string): boolean {
    if (this.exact.has(path)) {
      return true;
    }
    for (const prefix of this.prefixes) {
      if (path.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }
}
