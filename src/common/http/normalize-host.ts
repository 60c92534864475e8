/**
 * Normalises a Host header or a configured host pattern the way the Go gateway did: lower-case,
 * no port, no IPv6 brackets, no trailing dot. One function for both, so a pattern and the requests
 * it should match can never be normalised differently. Allocation-free for the common case of an
 * already-normal host without a port (it runs on every request).
 */
export function normalizeHost(raw: string | undefined): string {
  if (!raw) {
    return '';
  }
  let host = raw.trim();
  if (host.charCodeAt(0) === 91 /* [ */) {
    const end = host.indexOf(']');
    host = end === -1 ? host.slice(1) : host.slice(1, end);
  } else {
    const colon = host.indexOf(':');
    // More than one colon without brackets is a bare IPv6 literal, not host:port.
    if (colon !== -1 && host.indexOf(':', colon + 1) === -1) {
      host = host.slice(0, colon);
    }
  }
  if (host.endsWith('.')) {
    host = host.slice(0, -1);
  }
  return host.toLowerCase();
}
