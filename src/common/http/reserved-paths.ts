/**
 * Paths the gateway answers itself on every host; they are never proxied, so an upstream cannot
 * be reached through them and a client cannot confuse a gateway answer with an upstream's.
 * Documented in README "Reserved paths".
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
