/**
 * Canonicalises the path of a request target before routing, so that no spelling of a path can
 * reach an upstream path outside the route it matched (seed-spec D13).
 *
 * - `.` and `..` segments are resolved (RFC 3986 §5.2.4) before matching; `..` above the root is
 *   rejected. Percent-encoded dots (`%2e`) count as dots, so `%2e%2e` is resolved like `..`.
 * - Encoded slashes and backslashes (`%2f`, `%5c`) and raw backslashes are rejected: upstreams
 *   disagree on whether they separate segments, which is how traversal slips past proxies
 *   (Envoy's `path_with_escaped_slashes_action: REJECT_REQUEST` does the same).
 * - Repeated slashes are merged, as nginx `merge_slashes` does.
 * - NUL and other control characters are rejected.
 *
 * Everything else is forwarded byte-for-byte as the client sent it (no decoding), so `%20`,
 * `%252e` etc. reach the upstream unchanged.
 */
export type PathResult = { ok: true; path: string } | { ok: false; reason: string };

// eslint-disable-next-line no-control-regex -- control characters are exactly what we reject
const SUSPICIOUS = /[%\\]|\/\.|\/\/|[\x00-\x1f\x7f]/;
const ENCODED_SEPARATOR = /%(2f|5c)/i;
// eslint-disable-next-line no-control-regex -- as above
const CONTROL = /[\x00-\x1f\x7f]|%00/i;

export function canonicalizePath(rawPath: string): PathResult {
  if (rawPath.charCodeAt(0) !== 47 /* / */) {
    // Absolute-form targets (`GET http://host/x`) are split by the caller; anything else is junk.
    return rawPath === '*'
      ? { ok: false, reason: 'asterisk-form request target' }
      : { ok: false, reason: 'request target must start with "/"' };
  }
  if (!SUSPICIOUS.test(rawPath)) {
    return { ok: true, path: rawPath };
  }
  if (rawPath.includes('\\')) {
    return { ok: false, reason: 'backslash in path' };
  }
  if (ENCODED_SEPARATOR.test(rawPath)) {
    return { ok: false, reason: 'encoded slash or backslash in path' };
  }
  if (CONTROL.test(rawPath)) {
    return { ok: false, reason: 'control character in path' };
  }
  const segments = rawPath.split('/');
  const out: string[] = [];
  const last = segments.length - 1;
  for (let i = 1; i <= last; i++) {
    const seg = segments[i];
    const dots = dotSegment(seg);
    if (dots === 1) {
      if (i === last) {
        out.push('');
      }
      continue;
    }
    if (dots === 2) {
      if (out.length === 0) {
        return { ok: false, reason: 'path escapes the root' };
      }
      out.pop();
      if (i === last) {
        out.push('');
      }
      continue;
    }
    if (seg === '' && i !== last) {
      continue;
    }
    out.push(seg);
  }
  return { ok: true, path: '/' + out.join('/') };
}

/** 1 for `.`, 2 for `..` (either spelled with `%2e`), 0 otherwise. */
function dotSegment(seg: string): 0 | 1 | 2 {
  if (seg.length === 0 || seg.length > 6) {
    return 0;
  }
  const decoded = seg.replace(/%2e/gi, '.');
  if (decoded === '.') {
    return 1;
  }
  if (decoded === '..') {
    return 2;
  }
  return 0;
}
