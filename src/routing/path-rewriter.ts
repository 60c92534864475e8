/**
 * Joins an upstream's base path with the forwarded path like Go's `singleJoiningSlash`, so target
 * `http://h/v1` + `/x` → `/v1/x` and `/` → `/v1/`.
 */
export function joinPaths(base: string, path: string): string {
  if (base === '' || base === '/') {
    return path;
  }
  const baseSlash = base.endsWith('/');
  const pathSlash = path.startsWith('/');
  if (baseSlash && pathSlash) {
    return base + path.slice(1);
  }
  if (!baseSlash && !pathSlash) {
    return base + '/' + path;
  }
  return base + path;
}

/** Target query first, then the client's, as the Go gateway merged them. */
export function mergeQuery(targetQuery: string, requestQuery: string): string {
  if (targetQuery === '') {
    return requestQuery;
  }
  if (requestQuery === '') {
    return targetQuery;
  }
  return targetQuery + '&' + requestQuery;
}
