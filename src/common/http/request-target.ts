/** A request target split into what routing needs. */
export interface RequestTarget {
  /** The path as sent (not yet canonical); `/` for an absolute-form target without one. */
  path: string;
  /** The query without its `?`; `''` when there is none. */
  query: string;
  /**
   * The authority of an absolute-form target (`GET http://host:port/x`) as sent, userinfo
   * included (the caller refuses it); undefined for origin-form targets.
   */
  authority: string | undefined;
}

const ABSOLUTE = /^https?:\/\//i;

/**
 * Splits an `origin-form` or an http(s) `absolute-form` request target (RFC 9112 §3.2). Any other
 * form is returned as its path, for path validation to refuse.
 */
export function splitTarget(url: string): RequestTarget {
  let target = url;
  let authority: string | undefined;
  if (target.charCodeAt(0) !== 47 /* / */ && ABSOLUTE.test(target)) {
    const start = target.indexOf('//') + 2;
    let end = start;
    while (end < target.length) {
      const c = target.charCodeAt(end);
      if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) {
        break;
      }
      end++;
    }
    authority = target.slice(start, end);
    target = target.slice(end);
    if (target === '' || target.charCodeAt(0) !== 47) {
      target = `/${target}`;
    }
  }
  const q = target.indexOf('?');
  return q === -1
    ? { path: target, query: '', authority }
    : { path: target.slice(0, q), query: target.slice(q + 1), authority };
}

/**
 * Whether a request carries more than one Host field (RFC 9112 §3.2: answer 400). Node keeps only
 * the first in `headers`, so the raw list is the only place a second one shows.
 */
export function hasRepeatedHost(rawHeaders: readonly string[]): boolean {
  let seen = false;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (
      name.length === 4 &&
      (name === 'Host' || name === 'host' || name.toLowerCase() === 'host')
    ) {
      if (seen) {
        return true;
      }
      seen = true;
    }
  }
  return false;
}
