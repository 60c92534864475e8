import type { PartialContent } from './ranges';

/**
 * One stored response (RFC 9111 §3) with the facts freshness and revalidation need, worked out
 * once at store time. The body is the identity representation exactly as the upstream sent it
 * (or as the upstream encoded it; the gateway never recompresses).
 */
export interface CacheEntry {
  status: number;
  /**
   * Upstream response headers, hop-by-hop ones and the gateway's per-response ones (Age,
   * X-Request-Id, X-Cache, Cache-Status) removed, as flat `[name, value, …]` pairs.
   */
  headers: string[];
  body: Buffer;
  /** Wall-clock ms when the response (headers) arrived: `response_time` of §4.2.3. */
  responseTime: number;
  /** `corrected_initial_age` of §4.2.3, in ms. */
  initialAgeMs: number;
  /** Freshness lifetime (§4.2.1), in ms. */
  freshnessMs: number;
  /** RFC 5861 windows past freshness, in ms (0: none). */
  staleWhileRevalidateMs: number;
  staleIfErrorMs: number;
  /** must-revalidate, proxy-revalidate or s-maxage: never served stale (§4.2.4). */
  mustRevalidate: boolean;
  /** Response `no-cache`: stored, but validated upstream before every use. */
  noCache: boolean;
  /** public, s-maxage or must-revalidate: may be served to requests with credentials (§3.5). */
  sharedWithAuth: boolean;
  etag: string | undefined;
  lastModified: string | undefined;
  /** Lower-case header names of the response's `Vary` (empty: one variant). */
  vary: string[];
  /** Secondary key (normalised request values of the `vary` headers) this variant answers. */
  variant: string;
  /**
   * The stored request's own values of the `vary` fields it carried (lower-case names), sent
   * again on conditional requests so the upstream validates this variant (RFC 9111 §4.3.1).
   */
  selecting?: [string, string][];
  /** The gateway may compress this entry on the way out (see compression.ts). */
  compressible: boolean;
  /**
   * Set while the entry is incomplete (stored from 206 responses, RFC 9111 §3.3): it then only
   * answers ranges it holds. `status` and `headers` describe the complete representation.
   */
  partial?: PartialContent;
  /** Wall-clock ms after which the store may drop the entry. */
  expiresAt: number;
}

/** Memory-only views derived from an entry on first use, so hits only look things up. */
export interface EntryViews {
  /** Response header arrays keyed by `tls|encoding`, without Age and the per-request headers. */
  headers: Map<string, string[]>;
  /** Compressed bodies by encoding, made once per entry. */
  encoded: Map<string, Buffer>;
  /**
   * Small bodies as latin1 strings, by encoding ('' for the stored body), made once per entry:
   * Node writes a string body in one piece with the head (see CacheResponder).
   */
  latin1: Map<string, string>;
}

export type LiveEntry = CacheEntry & {
  views?: EntryViews;
  /**
   * Entries read from Redis are new objects on every read: this names the stored version
   * (`primary \n variant \n responseTime`) so compressed copies can be memoised per replica.
   */
  sharedId?: string;
};

/** Current age in ms (RFC 9111 §4.2.3). */
export function currentAgeMs(entry: CacheEntry, now: number): number {
  return entry.initialAgeMs + Math.max(0, now - entry.responseTime);
}

/** Ms the entry stays fresh (negative: stale by that much). */
export function remainingFreshMs(entry: CacheEntry, now: number): number {
  return entry.freshnessMs - currentAgeMs(entry, now);
}

/** Marker stored under the primary key of a response that has a `Vary` header. */
export interface VaryMarker {
  marker: true;
  vary: string[];
  expiresAt: number;
  /**
   * With `Vary: Accept-Language`: the `Content-Language`s of variants stored under a language
   * key, which later requests are matched against by q-value (see selectLanguage).
   */
  languages?: string[];
}

export type StoredItem = LiveEntry | VaryMarker;

export function isVaryMarker(item: StoredItem): item is VaryMarker {
  return (item as VaryMarker).marker === true;
}

/** Approximate bytes an item holds in memory (body plus header strings). */
export function itemSize(key: string, item: StoredItem): number {
  let size = 64 + key.length * 2;
  if (isVaryMarker(item)) {
    return size + item.vary.join('').length * 2;
  }
  size += item.body.length;
  for (const h of item.headers) {
    size += h.length * 2 + 16;
  }
  return size;
}

// Binary layout for Redis: 4-byte big-endian length of the JSON metadata, the JSON, the body.
// Bodies stay raw bytes (no base64, no JSON escaping), so they round-trip exactly.
type EntryMeta = Omit<CacheEntry, 'body'> & { marker?: undefined };
type MarkerMeta = VaryMarker;

export function encodeItem(item: StoredItem): Buffer {
  let meta: EntryMeta | MarkerMeta;
  let body: Buffer;
  if (isVaryMarker(item)) {
    meta = {
      marker: true,
      vary: item.vary,
      expiresAt: item.expiresAt,
      ...(item.languages === undefined ? {} : { languages: item.languages }),
    };
    body = Buffer.alloc(0);
  } else {
    const { body: b, views: _views, ...rest } = item;
    meta = rest;
    body = b;
  }
  const json = Buffer.from(JSON.stringify(meta));
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(json.length, 0);
  return Buffer.concat([head, json, body]);
}

/** Inverse of {@link encodeItem}; undefined for anything malformed (treated as a miss). */
export function decodeItem(buf: Buffer): StoredItem | undefined {
  if (buf.length < 4) {
    return undefined;
  }
  const len = buf.readUInt32BE(0);
  if (4 + len > buf.length) {
    return undefined;
  }
  try {
    const meta = JSON.parse(buf.subarray(4, 4 + len).toString()) as EntryMeta | MarkerMeta;
    if (meta.marker === true) {
      return {
        marker: true,
        vary: meta.vary,
        expiresAt: meta.expiresAt,
        ...(Array.isArray(meta.languages) ? { languages: meta.languages } : {}),
      };
    }
    if (typeof meta.status !== 'number' || !Array.isArray(meta.headers)) {
      return undefined;
    }
    return { ...meta, body: buf.subarray(4 + len) };
  } catch {
    return undefined;
  }
}
