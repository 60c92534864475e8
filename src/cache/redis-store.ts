import type { Cluster, Redis } from 'ioredis';
import type { RedisService } from '../redis/redis.service';
import {
  type CacheEntry,
  decodeItem,
  encodeItem,
  isVaryMarker,
  type LiveEntry,
} from './cache-entry';

/** Redis key prefix of the shared cache. */
export const REDIS_CACHE_PREFIX = 'gateway:cache:';
/** Hash field of the entry (or Vary marker) stored under the primary key. */
const PRIMARY_FIELD = '';

/** Escapes Redis glob metacharacters for SCAN MATCH. */
function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}

/**
 * The shared store: one Redis hash per primary key, holding the entry (field `''`) or a Vary
 * marker plus one field per variant, so invalidating a URL is one DEL whatever its variants.
 * Values are raw bytes through ioredis (`hgetBuffer`), never base64 or JSON-escaped. Every
 * failure is reported to RedisService (logged once per outage) and reads as a miss.
 */
export class RedisStore {
  private readonly client: Redis;

  constructor(private readonly redis: RedisService) {
    // Its own connection with a longer command timeout: writing a 1 MiB body can take longer
    // than the 100 ms that rightly marks Redis as failing for a rate-limit check, and a slow
    // cache write must not switch the limiter and IP lists to local state.
    this.client = redis.duplicate({ commandTimeout: 1_000 }) ?? redis.client!;
  }

  get ready(): boolean {
    return this.redis.isReady && this.client.status === 'ready';
  }

  /** Outages are reported (logged once by RedisService); a slow command only loses this entry. */
  private failed(error: unknown): void {
    if (!(error instanceof Error && /timed out/i.test(error.message))) {
      this.redis.reportFailure(error);
    }
  }

  async lookup(
    primary: string,
    secondaryOf: (vary: readonly string[], languages?: readonly string[]) => string,
    now: number,
  ): Promise<LiveEntry | undefined> {
    const client = this.client;
    const key = REDIS_CACHE_PREFIX + primary;
    try {
      const raw = await client.hgetBuffer(key, PRIMARY_FIELD);
      const first = raw === null ? undefined : decodeItem(raw);
      if (first === undefined || first.expiresAt <= now) {
        return undefined;
      }
      if (!isVaryMarker(first)) {
        return { ...first, sharedId: `${primary}\n\n${first.responseTime}` };
      }
      const variantRaw = await client.hgetBuffer(key, secondaryOf(first.vary, first.languages));
      const variant = variantRaw === null ? undefined : decodeItem(variantRaw);
      return variant === undefined || isVaryMarker(variant) || variant.expiresAt <= now
        ? undefined
        : { ...variant, sharedId: `${primary}\n${variant.variant}\n${variant.responseTime}` };
    } catch (error) {
      this.failed(error);
      return undefined;
    }
  }

  /** `language`: the Content-Language this variant is keyed by, if any (see VaryMarker). */
  async save(
    primary: string,
    entry: CacheEntry,
    secondary: string,
    now: number,
    language?: string,
  ): Promise<void> {
    const client = this.client;
    const key = REDIS_CACHE_PREFIX + primary;
    const ttl = Math.max(1, Math.ceil(entry.expiresAt - now));
    try {
      if (entry.vary.length === 0) {
        await client
          .multi()
          .del(key)
          .hset(key, PRIMARY_FIELD, encodeItem(entry))
          .pexpire(key, ttl)
          .exec();
        return;
      }
      const markerRaw = await client.hgetBuffer(key, PRIMARY_FIELD);
      const marker = markerRaw === null ? undefined : decodeItem(markerRaw);
      const tx = client.multi();
      const sameVary =
        marker !== undefined && isVaryMarker(marker) && marker.vary.join() === entry.vary.join();
      if (!sameVary) {
        tx.del(key);
      }
      const known = sameVary ? (marker.languages ?? []) : [];
      const languages =
        language === undefined || known.includes(language) ? known : [...known, language];
      tx.hset(
        key,
        PRIMARY_FIELD,
        encodeItem({
          marker: true,
          vary: entry.vary,
          expiresAt: Math.max(entry.expiresAt, marker?.expiresAt ?? 0),
          ...(languages.length === 0 ? {} : { languages }),
        }),
      );
      tx.hset(key, secondary, encodeItem(entry));
      // The hash lives as long as its longest-lived variant.
      tx.pexpire(key, ttl, 'GT');
      tx.pexpire(key, ttl, 'NX');
      await tx.exec();
    } catch (error) {
      this.failed(error);
    }
  }

  /** Deletes exact primary keys (with their variants). */
  async deletePrimaries(primaries: readonly string[]): Promise<number> {
    if (primaries.length === 0) {
      return 0;
    }
    try {
      return await this.deleteKeys(primaries.map((p) => REDIS_CACHE_PREFIX + p));
    } catch (error) {
      this.failed(error);
      return 0;
    }
  }

  /**
   * Deletes every primary key `match` accepts among those matching the glob `pattern` (already
   * escaped, without the prefix). SCAN, never KEYS: the keyspace may be large and shared.
   */
  async deleteMatching(pattern: string, match: (primary: string) => boolean): Promise<number> {
    // On Cluster every master holds part of the keyspace and SCAN walks one node only.
    const nodes: Redis[] = this.client.isCluster
      ? (this.client as unknown as Cluster).nodes('master')
      : [this.client];
    let removed = 0;
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(
          cursor,
          'MATCH',
          REDIS_CACHE_PREFIX + pattern,
          'COUNT',
          500,
        );
        cursor = next;
        const doomed = keys.filter((k) => match(k.slice(REDIS_CACHE_PREFIX.length)));
        if (doomed.length > 0) {
          removed += await this.deleteKeys(doomed);
        }
      } while (cursor !== '0');
    }
    return removed;
  }

  /** DEL of many keys; one key per command on Cluster, where they may sit in different slots. */
  private async deleteKeys(keys: readonly string[]): Promise<number> {
    if (!this.client.isCluster) {
      return this.client.del(...keys);
    }
    const counts = await Promise.all(keys.map((key) => this.client.del(key)));
    return counts.reduce((a, b) => a + b, 0);
  }
}

export { globEscape };
