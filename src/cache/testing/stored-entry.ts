import type { LiveEntry } from '../cache-entry';

/**
 * A stored 200 response for cache specs: fresh for a minute from `responseTime` 0, kept until
 * `expiresAt` 1,000,000 (pass `now` values below that), no Vary, no validators.
 */
export function storedEntry(body: string | Buffer, over: Partial<LiveEntry> = {}): LiveEntry {
  return {
    status: 200,
    headers: ['content-type', 'text/plain'],
    body: Buffer.isBuffer(body) ? body : Buffer.from(body),
    responseTime: 0,
    initialAgeMs: 0,
    freshnessMs: 60_000,
    staleWhileRevalidateMs: 0,
    staleIfErrorMs: 0,
    mustRevalidate: false,
    noCache: false,
    sharedWithAuth: false,
    etag: undefined,
    lastModified: undefined,
    vary: [],
    variant: '',
    compressible: false,
    expiresAt: 1_000_000,
    ...over,
  };
}
