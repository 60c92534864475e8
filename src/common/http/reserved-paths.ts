/**
 * The gateway's own paths: answered by the gateway itself, never proxied, on every host that no
 * host route claims (a route with an explicit `host` owns every path on that host), and always
 * on the admin listener. Documented in README "Reserved paths".
 */
export const RESERVED_EXACT = new Set([
  '/health',
  '/metrics',
  '/stats',
  '/monitor',
  '/api/system-metrics',
  '/docs',
  '/docs-json',
]);
export const RESERVED_PREFIXES = ['/health/', '/admin/', '/admin', '/docs/', '/monitor/'];

/** What the public port keeps when `ADMIN_PORT` moves everything else to the admin listener. */
export const PROBE_PATHS: ReadonlySet<string> = new Set(['/health/live', '/health/ready']);

export function isReservedPath(path: string): boolean {
  if (RESERVED_EXACT.has(path)) {
    return true;
  }
  for (const prefix of RESERVED_PREFIXES) {
    if (prefix.endsWith('/') ? path.startsWith(prefix) : path === prefix) {
      return true;
    }
  }
  return false;
}

export function isProbePath(path: string): boolean {
  return PROBE_PATHS.has(path);
}

/** The reserved paths as a reader writes them (`/health*` is `/health` and what is below it). */
const RESERVED_SHOWN = [
  '/health*',
  '/metrics',
  '/stats',
  '/monitor*',
  '/api/system-metrics',
  '/admin*',
  '/docs*',
  '/docs-json',
];

/**
 * The gateway paths a route prefix shares requests with (README "Reserved paths"): the ones it
 * covers (`/api` covers `/api/system-metrics`, `/` covers all), or the subtree it lies in
 * (`/admin/users` is inside `/admin/*`). `onlyProbes`: with `ADMIN_PORT`, the public port keeps
 * only `/health/live` and `/health/ready`.
 */
export function reservedPathsUnder(prefix: string, onlyProbes: boolean): string[] {
  const base = prefix.length > 1 ? prefix.replace(/\/+$/, '') : prefix;
  const covers = (path: string): boolean =>
    base === '/' || path === base || path.startsWith(`${base}/`);
  if (onlyProbes) {
    return [...PROBE_PATHS].filter(covers);
  }
  const covered = RESERVED_SHOWN.filter((shown) => covers(shown.replace(/\*$/, '')));
  if (covered.length > 0) {
    return covered;
  }
  // Inside a reserved subtree (`/admin/users`): the subtree's root and everything below.
  return isReservedPath(base)
    ? RESERVED_SHOWN.filter(
        (shown) => shown.endsWith('*') && base.startsWith(`${shown.slice(0, -1)}/`),
      )
    : [];
}
