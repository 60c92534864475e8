import { z } from 'zod';
import { parseTargetedField } from '../env-parsers';
import { area, boolean, duration, integer, setting } from './setting';

export const CACHE = area({
  section: 'cache',
  title: 'Response cache and compression',
  settings: {
    enabled: boolean({
      env: 'ENABLE_CACHING',
      key: 'enable_caching',
      description: 'Shared HTTP cache (RFC 9111) for GET and HEAD.',
      default: true,
    }),
    ttlMs: duration({
      env: 'CACHE_TTL',
      key: 'cache_ttl',
      description:
        'Setting it opts every caching route in to storing responses that state no freshness (no max-age, s-maxage, Expires, Last-Modified or public) for this long; left unset, such responses are not stored. Also caps the heuristic freshness derived from Last-Modified.',
      default: '5m',
    }),
    maxObjectBytes: integer({
      env: 'CACHE_MAX_OBJECT_SIZE',
      key: 'cache_max_object_size',
      description: 'Largest response body stored in the cache, in bytes.',
      min: 1,
      default: 1048576,
    }),
    maxMemoryBytes: integer({
      env: 'CACHE_MAX_SIZE',
      key: 'cache_max_size',
      description:
        'Total bytes kept by the in-memory cache store; least recently used entries go first.',
      min: 0,
      default: 67108864,
    }),
    compression: boolean({
      env: 'ENABLE_COMPRESSION',
      key: 'enable_compression',
      description: 'Compress responses with gzip or brotli, as the client accepts.',
      default: true,
    }),
    compressionMinBytes: integer({
      env: 'COMPRESSION_MIN_SIZE',
      key: 'compression_min_size',
      description: 'Smallest response body compressed, in bytes.',
      min: 0,
      default: 1024,
    }),
    staleOnErrorMs: duration({
      env: 'CACHE_STALE_ON_ERROR',
      key: 'cache_stale_on_error',
      description:
        'How long past its freshness a stored response may still be served when the upstream cannot be reached (connect error, reset, timeout), unless it says must-revalidate, proxy-revalidate, s-maxage or no-cache, or set its own stale-if-error; `0s` turns it off.',
      default: '30m',
      allowZero: true,
    }),
    targetedField: setting({
      env: 'CACHE_TARGETED_FIELD',
      key: 'cache_targeted_field',
      description:
        "This gateway's own targeted cache-control field (RFC 9213), e.g. `Gateway-Cache-Control`: read before CDN-Cache-Control and Cache-Control for the cache's decisions, and removed from responses.",
      type: 'header name',
      schema: z.string(),
      parse: (raw): string | undefined => parseTargetedField(raw),
      default: undefined,
    }),
  },
});
