/**
 * Upstream and service URLs may carry secrets: userinfo (`https://user:pass@h`) and query values
 * (`?key=SECRET`). These are the two forms in which the gateway shows a URL.
 */

/** Shown wherever the admin API is not (health, stats, metrics labels, logs, traces, monitor). */
const UNPARSEABLE = '***';

/**
 * Scheme, host, port and path only: `https://user:pw@api.example.com:8443/v1?key=s` is
 * `https://api.example.com:8443/v1`. Unparseable input gives `***`.
 */
export function urlLabel(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return UNPARSEABLE;
  }
}

/**
 * For the admin API and its audit log: the whole URL with its userinfo and every query value
 * (or bare query token) replaced by `***`, keys kept: `https://***@h/v1?key=***&region=***`.
 * The fragment is dropped. A URL with none of these is returned as written; unparseable input
 * gives `***`.
 */
export function maskUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.username === '' && url.password === '' && url.search === '' && url.hash === '') {
      return raw;
    }
    const userinfo = url.username !== '' || url.password !== '' ? `${UNPARSEABLE}@` : '';
    let query = '';
    if (url.search.length > 1) {
      query = `?${url.search
        .slice(1)
        .split('&')
        .map((part) => {
          const eq = part.indexOf('=');
          return eq === -1 ? UNPARSEABLE : `${part.slice(0, eq)}=${UNPARSEABLE}`;
        })
        .join('&')}`;
    }
    return `${url.protocol}//${userinfo}${url.host}${url.pathname}${query}`;
  } catch {
    return UNPARSEABLE;
  }
}

const ABSOLUTE_URL = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * A copy of `value` (JSON-like: objects, arrays, strings) in which every string that is an
 * absolute URL is passed through {@link maskUrl}. For whole admin answers and audit entries, so
 * no field added later can show a secret in a URL.
 */
export function maskUrlsDeep(value: unknown): unknown {
  if (typeof value === 'string') {
    return ABSOLUTE_URL.test(value) ? maskUrl(value) : value;
  }
  if (Array.isArray(value)) {
    return value.map(maskUrlsDeep);
  }
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = maskUrlsDeep(item);
    }
    return out;
  }
  return value;
}
