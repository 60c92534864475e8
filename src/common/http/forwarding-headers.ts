/**
 * Request headers through which a proxy in front of an application tells it something the
 * gateway does not set itself. A client that sends one directly can make an application believe
 * it: build links and redirects under another prefix or scheme (Rack, Spring, ASP.NET, Symfony),
 * route to another URL (Symfony and IIS `X-Original-URL`), run another method, or log and
 * allow-list another address. They are stripped from clients outside TRUSTED_PROXIES by default
 * (STRIP_CLIENT_HEADERS); what reaches an upstream is part of the cache key, or keeps the answer
 * out of the cache.
 */

/** Change the URL, scheme or host an application builds: keyed when forwarded. */
export const URL_SHAPING_HEADERS: readonly string[] = [
  'x-forwarded-prefix',
  'x-forwarded-path',
  'x-forwarded-uri',
  'x-forwarded-scheme',
  'x-forwarded-ssl',
  'x-forwarded-protocol',
  'x-forwarded-server',
  'x-original-url',
  'x-original-uri',
  'x-rewrite-url',
  'x-original-host',
  'x-host',
  'x-scheme',
  'x-url-scheme',
  'front-end-https',
];

/** Make an application run another method than the request's: never cached when forwarded. */
export const METHOD_OVERRIDE_HEADERS: readonly string[] = [
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
];

/**
 * Name the client's address for applications that read them instead of X-Forwarded-For: not
 * keyed (like X-Forwarded-For and X-Real-IP, which the gateway sets itself).
 */
export const CLIENT_ADDRESS_HEADERS: readonly string[] = [
  'x-client-ip',
  'true-client-ip',
  'x-cluster-client-ip',
  'cf-connecting-ip',
  'fastly-client-ip',
  'x-original-forwarded-for',
  'x-originating-ip',
  'x-remote-ip',
  'x-remote-addr',
  'x-proxyuser-ip',
  'client-ip',
  'forwarded-for',
  'x-forwarded',
];

/** `STRIP_CLIENT_HEADERS` default: all of the above. */
export const DEFAULT_STRIP_CLIENT_HEADERS: readonly string[] = [
  ...URL_SHAPING_HEADERS,
  ...METHOD_OVERRIDE_HEADERS,
  ...CLIENT_ADDRESS_HEADERS,
];
