/**
 * Canonicalises the path of a request target before routing, so that the gateway and the
 * upstream can never disagree about which path was asked for (seed-spec D13):
 *
 * - Percent-encoded unreserved characters are decoded (RFC 3986 §6.2.2.2: `%61dmin` is
 *   `admin`), other escapes get upper-case hex, and the canonical form is what is forwarded.
 *   Malformed escapes are rejected.
 * - `.` and `..` segments (including `%2e` spellings) are resolved (RFC 3986 §5.2.4) before
 *   matching; `..` above the root is rejected.
 * - `;` is rejected, raw or encoded (`%3B`), as Spring Security's firewall rejects it: servlet
 *   containers drop `;parameters` from every segment before choosing a servlet (Spring decodes
 *   `%3B` first), so `/admin;x/users` is `/admin/users` to them but not to a prefix match, and
 *   `..;/` is `..`. Matrix parameters and `;jsessionid` URLs are the price.
 * - Encoded slashes and backslashes (`%2f`, `%5c`) and raw backslashes are rejected: upstreams
 *   disagree on whether they separate segments (Envoy's `path_with_escaped_slashes_action:
 *   REJECT_REQUEST` does the same).
 * - Repeated slashes are merged, as nginx `merge_slashes` does.
 * - NUL and other control characters, raw or encoded, are rejected.
 *
 * Clean paths (no `%`, `\`, `;`, dot segment or `//`) are returned as they are, allocation-free.
 */
export type PathResult = { ok: true; path: string } | { ok: false; reason: string };

// eslint-disable-next-line no-control-regex -- control characters are exactly what we look for
const SUSPICIOUS = /[%\\;]|\/\.|\/\/|[\x00-\x1f\x7f]/;
// eslint-disable-next-line no-control-regex -- as above
const CONTROL = /[\x00-\x1f\x7f]/;
const ESCAPE = /%([0-9A-Fa-f]{2})?/g;

/** ALPHA / DIGIT / "-" / "." / "_" / "~" (RFC 3986 §2.3). */
function isUnreserved(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2d ||
    c === 0x2e ||
    c === 0x5f ||
    c === 0x7e
  );
}

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
  if (rawPath.includes(';')) {
    return { ok: false, reason: 'path parameters (";") are not accepted' };
  }
  if (CONTROL.test(rawPath)) {
    return { ok: false, reason: 'control character in path' };
  }
  let bad: string | undefined;
  const decoded = rawPath.includes('%')
    ? rawPath.replace(ESCAPE, (match, hex: string | undefined) => {
        if (hex === undefined) {
          bad ??= 'malformed percent-encoding in path';
          return match;
        }
        const c = parseInt(hex, 16);
        if (c === 0x2f || c === 0x5c) {
          bad ??= 'encoded slash or backslash in path';
        } else if (c === 0x3b) {
          bad ??= 'path parameters (";") are not accepted';
        } else if (c < 0x20 || c === 0x7f) {
          bad ??= 'control character in path';
        }
        return isUnreserved(c) ? String.fromCharCode(c) : `%${hex.toUpperCase()}`;
      })
    : rawPath;
  if (bad) {
    return { ok: false, reason: bad };
  }
  const segments = decoded.split('/');
  const out: string[] = [];
  const last = segments.length - 1;
  for (let i = 1; i <= last; i++) {
    const seg = segments[i];
    if (seg === '.' || seg === '..') {
      if (seg === '..') {
        if (out.length === 0) {
          return { ok: false, reason: 'path escapes the root' };
        }
        out.pop();
      }
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
