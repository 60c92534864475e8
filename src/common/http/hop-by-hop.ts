/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) plus the legacy ones proxies strip. Never forwarded in
 * either direction; `te: trailers` is re-added on requests because it is end-to-end in meaning.
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // h2c upgrade settings (RFC 7540 §3.2.1) are connection-specific too.
  'http2-settings',
]);
