import {
  type CacheEntry,
  isVaryMarker,
  itemSize,
  type LiveEntry,
  type VaryMarker,
} from './cache-entry';

interface Slot {
  key: string;
  item: LiveEntry | VaryMarker;
  size: number;
  /** Markers only: the variant keys stored under this primary key. */
  variants?: Set<string>;
  /** When a hit last moved it to the most-recent end (never, until its first hit). */
  touchedAt?: number;
}

/**
 * A hit moves its entry to the most-recent end at most this often (ms), as Varnish's
 * lru_interval does: a hot entry's order is already right, and moving it costs two Map
 * operations on every hit.
 */
const LRU_TOUCH_INTERVAL_MS = 1000;

/** Separates a primary key from a variant's secondary key (never occurs in a URL). */
export const VARIANT_SEPARATOR = '\n';

/**
 * The in-memory store: least-recently-used, capped in bytes (body and headers counted). A Map
 * keeps insertion order, so re-inserting on use makes its first key the eviction candidate.
 * Responses with `Vary` keep a marker under the primary key naming the varying headers, and
 * one slot per variant under `primary \n secondary`.
 */
export class MemoryStore {
  private readonly slots = new Map<string, Slot>();
  private readonly slotOf = new WeakMap<object, Slot>();
  private bytes = 0;
  evictions = 0;

  constructor(private readonly maxBytes: number) {}

  get size(): number {
    return this.slots.size;
  }

  get usedBytes(): number {
    return this.bytes;
  }

  get capacityBytes(): number {
    return this.maxBytes;
  }

  /** The entry for this request, or undefined. Synchronous: memory hits never wait. */
  lookup(
    primary: string,
    secondaryOf: (vary: readonly string[], languages?: readonly string[]) => string,
    now: number,
  ): LiveEntry | undefined {
    const slot = this.live(primary, now);
    if (slot === undefined) {
      return undefined;
    }
    if (!isVaryMarker(slot.item)) {
      return slot.item;
    }
    const variant = this.live(
      primary + VARIANT_SEPARATOR + secondaryOf(slot.item.vary, slot.item.languages),
      now,
    );
    return variant === undefined || isVaryMarker(variant.item) ? undefined : variant.item;
  }

  /** `language`: the Content-Language this variant is keyed by, if any (see VaryMarker). */
  save(primary: string, entry: CacheEntry, secondary: string, language?: string): void {
    if (entry.vary.length === 0) {
      this.deletePrimary(primary);
      this.put(primary, { key: primary, item: entry, size: itemSize(primary, entry) });
      return;
    }
    let marker = this.slots.get(primary);
    if (
      marker === undefined ||
      !isVaryMarker(marker.item) ||
      marker.item.vary.join() !== entry.vary.join()
    ) {
      // A new or changed Vary makes every older variant unreachable: drop them.
      this.deletePrimary(primary);
      const item: VaryMarker = { marker: true, vary: entry.vary, expiresAt: entry.expiresAt };
      marker = { key: primary, item, size: itemSize(primary, item), variants: new Set() };
      this.put(primary, marker);
    } else {
      marker.item.expiresAt = Math.max(marker.item.expiresAt, entry.expiresAt);
    }
    const item = marker.item as VaryMarker;
    if (language !== undefined && !(item.languages ?? []).includes(language)) {
      item.languages = [...(item.languages ?? []), language];
    }
    const key = primary + VARIANT_SEPARATOR + secondary;
    marker.variants!.add(key);
    this.remove(key);
    this.put(key, { key, item: entry, size: itemSize(key, entry) });
  }

  /** Removes a primary key and all its variants; true when something was stored. */
  deletePrimary(primary: string): boolean {
    const slot = this.slots.get(primary);
    if (slot === undefined) {
      return false;
    }
    if (slot.variants) {
      for (const key of slot.variants) {
        this.remove(key);
      }
    }
    this.remove(primary);
    return true;
  }

  /** Removes every primary key `match` accepts (with its variants); returns how many. */
  deleteWhere(match: (primary: string) => boolean): number {
    let removed = 0;
    for (const key of [...this.slots.keys()]) {
      if (!key.includes(VARIANT_SEPARATOR) && match(key) && this.deletePrimary(key)) {
        removed++;
      }
    }
    return removed;
  }

  clear(): void {
    this.slots.clear();
    this.bytes = 0;
  }

  /** Accounts memory an entry gained after it was stored (a compressed copy of its body). */
  grow(entry: LiveEntry, delta: number): void {
    const slot = this.slotOf.get(entry);
    if (slot !== undefined && this.slots.get(slot.key) === slot) {
      slot.size += delta;
      this.bytes += delta;
      this.evict();
    }
  }

  private live(key: string, now: number): Slot | undefined {
    const slot = this.slots.get(key);
    if (slot === undefined) {
      return undefined;
    }
    if (slot.item.expiresAt <= now) {
      if (slot.variants) {
        this.deletePrimary(key);
      } else {
        this.remove(key);
      }
      return undefined;
    }
    // Most recently used goes last.
    if (slot.touchedAt === undefined || now - slot.touchedAt >= LRU_TOUCH_INTERVAL_MS) {
      slot.touchedAt = now;
      this.slots.delete(key);
      this.slots.set(key, slot);
    }
    return slot;
  }

  private put(key: string, slot: Slot): void {
    if (slot.size > this.maxBytes) {
      return;
    }
    this.slots.set(key, slot);
    this.slotOf.set(slot.item, slot);
    this.bytes += slot.size;
    this.evict();
  }

  private remove(key: string): void {
    const slot = this.slots.get(key);
    if (slot !== undefined) {
      this.slots.delete(key);
      this.bytes -= slot.size;
    }
  }

  private evict(): void {
    while (this.bytes > this.maxBytes) {
      const oldest = this.slots.keys().next();
      if (oldest.done === true) {
        return;
      }
      const key = oldest.value;
      this.evictions++;
      const sep = key.indexOf(VARIANT_SEPARATOR);
      if (sep !== -1) {
        this.slots.get(key.slice(0, sep))?.variants?.delete(key);
        this.remove(key);
      } else {
        this.deletePrimary(key);
      }
    }
  }
}
