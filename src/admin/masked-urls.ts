import { maskUrl } from '../common/http/url-display';
import type { RouteFileEntry } from '../config/gateway-config.schema';
import { badRequest } from './admin-error';

/**
 * A URL sent back to the admin API as the API showed it (userinfo and query values `***`) stands
 * for the configured URL it was shown for, so a listed route can be edited and sent back without
 * its key turning into a literal `***`.
 *
 * @param preferred URLs to try first (the upstreams of the route being replaced)
 * @returns the configured URL that masks to `sent`; `sent` itself when it shows nothing masked
 * @throws AdminError (400) when `sent` is masked but no configured URL, or more than one, masks
 *   to it
 */
export function unmaskUrl(
  sent: string,
  configured: readonly string[],
  field: string,
  preferred: readonly string[] = [],
): string {
  if (!sent.includes('***') || maskUrl(sent) !== sent) {
    return sent;
  }
  for (const pool of [preferred, configured]) {
    const matches = new Set(pool.filter((url) => maskUrl(url) === sent));
    if (matches.size === 1) {
      return [...matches][0];
    }
    if (matches.size > 1) {
      throw badRequest('a masked URL matches more than one configured upstream', [
        { field, message: 'several configured upstreams show as this URL: send the full URL' },
      ]);
    }
  }
  throw badRequest('a masked URL matches no configured upstream', [
    { field, message: 'no configured upstream shows as this URL: send the full URL' },
  ]);
}

/** A route entry with masked upstream URLs resolved (see {@link unmaskUrl}). */
export function unmaskRouteEntry(
  entry: RouteFileEntry,
  configured: readonly RouteFileEntry[],
  replacing?: RouteFileEntry,
): RouteFileEntry {
  const all = configured.flatMap(upstreamUrls);
  const own = replacing === undefined ? [] : upstreamUrls(replacing);
  const target = entry.target_url;
  const targets = entry.targets;
  return {
    ...entry,
    ...(typeof target === 'string'
      ? { target_url: unmaskUrl(target, all, 'body.target_url', own) }
      : {}),
    ...(Array.isArray(targets)
      ? {
          targets: targets.map((t, i) => {
            if (typeof t === 'string') {
              return unmaskUrl(t, all, `body.targets[${i}]`, own);
            }
            return typeof t?.url === 'string'
              ? { ...t, url: unmaskUrl(t.url, all, `body.targets[${i}].url`, own) }
              : t;
          }),
        }
      : {}),
  };
}

/** Whether an entry sends an upstream URL that may stand for a configured one (see unmaskUrl). */
export function hasMaskedUrl(entry: RouteFileEntry): boolean {
  return upstreamUrls(entry).some((url) => typeof url === 'string' && url.includes('***'));
}

/** Every upstream URL of an entry: `target_url`, and `targets` as strings or `{url, …}`. */
function upstreamUrls(entry: RouteFileEntry): string[] {
  return [
    ...(entry.target_url === undefined ? [] : [entry.target_url]),
    ...(entry.targets ?? []).map((t) => (typeof t === 'string' ? t : t.url)),
  ];
}
