import { joinPaths } from '../routing/path-rewriter';

/**
 * nginx's `proxy_redirect default`: a `Location` naming the upstream's own address (its origin,
 * below its base path) is turned into the path the client would use at the gateway, relative to
 * the gateway's origin (`/prefix/rest`). The upstream's address never reaches the client, and no
 * host is written from anything the client sent. Any other `Location` is left alone.
 *
 * @param origin the upstream's origin as URL prints it (`http://10.0.0.5:8080`)
 * @param basePath the upstream URL's path (`''` or `/v2`)
 * @param prefix the route prefix the gateway removed before forwarding (`''` when it removed none)
 */
export function rewriteRedirect(
  location: string,
  origin: string,
  basePath: string,
  prefix: string,
): string {
  let rest = stripOrigin(location, origin);
  if (rest === undefined) {
    return location;
  }
  if (basePath !== '' && basePath !== '/') {
    const base = basePath.endsWith('/') ? basePath.slice(0, -1) : basePath;
    if (!rest.startsWith(base) || !isBoundary(rest, base.length)) {
      // Outside the part of the upstream this route maps: nothing at the gateway names it.
      return location;
    }
    rest = rest.slice(base.length);
  }
  if (rest === '' || rest.charCodeAt(0) !== 47 /* / */) {
    rest = `/${rest}`;
  }
  return prefix === '' || prefix === '/' ? rest : joinPaths(prefix, rest);
}

/** What follows `origin` (or `origin` with its default port written out) in `location`. */
function stripOrigin(location: string, origin: string): string | undefined {
  for (const form of [origin, withDefaultPort(origin)]) {
    if (
      form !== undefined &&
      location.length >= form.length &&
      location.slice(0, form.length).toLowerCase() === form &&
      isBoundary(location, form.length)
    ) {
      return location.slice(form.length);
    }
  }
  return undefined;
}

function withDefaultPort(origin: string): string | undefined {
  const authority = origin.slice(origin.indexOf('//') + 2);
  if (authority.includes(':') && !authority.endsWith(']')) {
    return undefined;
  }
  return origin.startsWith('https:') ? `${origin}:443` : `${origin}:80`;
}

/** `s` ends at `at`, or continues with a path, query or fragment there. */
function isBoundary(s: string, at: number): boolean {
  const c = s.charCodeAt(at);
  return Number.isNaN(c) || c === 47 /* / */ || c === 63 /* ? */ || c === 35; /* # */
}
