import type { Clock } from '../../common/clock';

interface Entry<T> {
  value: T;
  expiresAtMs: number;
}

/**
 * A bounded LRU of verified tokens → their outcome. Keyed by the whole token string, so a hit is
 * exactly a token that already passed every check; an entry is dropped once the token's `exp`
 * (plus leeway) passes, so the cache never extends a token's life. Only successes are stored:
 * garbage tokens cannot fill it.
 */
export class VerifiedTokenCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    private readonly maxEntries: number,
    /** Wall clock (`exp` is wall-clock time). */
    private readonly clock: Clock,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(token: string): T | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) {
      return undefined;
    }
    this.entries.delete(token);
    if (entry.expiresAtMs <= this.clock()) {
      return undefined;
    }
    // Re-inserting moves the entry to the young end of the Map's insertion order.
    this.entries.set(token, entry);
    return entry.value;
  }

  set(token: string, value: T, expiresAtMs: number): void {
    if (this.maxEntries <= 0) {
      return;
    }
    this.entries.delete(token);
    this.entries.set(token, { value, expiresAtMs });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) {
        this.entries.delete(oldest.value);
      }
    }
  }

  /** Forget everything, e.g. after the signing keys changed. */
  clear(): void {
    this.entries.clear();
  }
}
