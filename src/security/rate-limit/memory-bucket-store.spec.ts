import { Logger } from '@nestjs/common';
import { MemoryBucketStore } from './memory-bucket-store';

describe('MemoryBucketStore', () => {
  let now: number;
  const clock = () => now;

  beforeEach(() => {
    now = 1_000;
  });

  function takeMany(store: MemoryBucketStore, key: string, n: number, rate = 100, burst = 200) {
    let allowed = 0;
    for (let i = 0; i < n; i++) {
      if (store.take(key, rate, burst).allowed) {
        allowed++;
      }
    }
    return allowed;
  }

  it('should admit a full burst of 200, deny the 201st, then admit 100 after 1 s', () => {
    const store = new MemoryBucketStore({ clock });

    expect(takeMany(store, 'ip', 200)).toBe(200);
    expect(store.take('ip', 100, 200)).toEqual({ allowed: false, tokens: 0 });

    now += 1_000;
    expect(takeMany(store, 'ip', 100)).toBe(100);
    expect(store.take('ip', 100, 200).allowed).toBe(false);
  });

  it('should refill continuously: one token every 10 ms at 100/s', () => {
    const store = new MemoryBucketStore({ clock });
    takeMany(store, 'ip', 200);

    now += 9;
    expect(store.take('ip', 100, 200).allowed).toBe(false);
    now += 1;
    expect(store.take('ip', 100, 200).allowed).toBe(true);
    expect(store.take('ip', 100, 200).allowed).toBe(false);
  });

  it('should never hold more than the burst, however long the client was idle', () => {
    const store = new MemoryBucketStore({ clock });
    store.take('ip', 100, 200);

    now += 3_600_000;
    expect(takeMany(store, 'ip', 300)).toBe(200);
  });

  it('should keep separate buckets per key and honour per-call rate and burst', () => {
    const store = new MemoryBucketStore({ clock });

    expect(takeMany(store, 'a', 10, 1, 5)).toBe(5);
    expect(takeMany(store, 'b', 10, 1, 5)).toBe(5);
    now += 2_000;
    expect(takeMany(store, 'a', 10, 1, 5)).toBe(2);
  });

  it('should treat a clock that goes backwards as no elapsed time', () => {
    const store = new MemoryBucketStore({ clock });
    takeMany(store, 'ip', 200);

    now -= 10_000;
    expect(store.take('ip', 100, 200).allowed).toBe(false);
  });

  it('should sweep every full bucket and keep those still refilling', () => {
    const store = new MemoryBucketStore({ clock });
    store.take('light', 100, 200);
    takeMany(store, 'heavy', 200);

    now += 500;
    expect(store.sweep()).toBe(1);
    expect(store.size).toBe(1);

    now += 1_500;
    expect(store.sweep()).toBe(1);
    expect(store.size).toBe(0);
  });

  it('should stay within the key cap when 1,000,000 distinct IPs arrive', () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const store = new MemoryBucketStore({ clock, maxKeys: 10_000 });

    for (let i = 0; i < 1_000_000; i++) {
      // Same instant: no bucket is ever idle, so only the cap bounds the map.
      store.take(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 100, 200);
    }

    expect(store.size).toBeLessThanOrEqual(10_000);
    expect(store.size).toBeGreaterThanOrEqual(5_000);
    expect(store.evictedByCap).toBe(1_000_000 - store.size);
    expect(warn).toHaveBeenCalledTimes(1);
    warn.mockRestore();
  });

  it('should not count buckets that were already full when the cap dropped them', () => {
    const store = new MemoryBucketStore({ clock, maxKeys: 4 });
    for (const key of ['a', 'b', 'c', 'd']) {
      store.take(key, 100, 200);
    }

    now += 1_000;
    store.take('e', 100, 200);

    expect(store.size).toBeLessThanOrEqual(4);
    expect(store.evictedByCap).toBe(0);
  });

  it('should evict the least recently used bucket, not the least recently created', () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const store = new MemoryBucketStore({ clock, maxKeys: 2 });
    takeMany(store, 'a', 200);
    takeMany(store, 'b', 200);
    store.take('a', 100, 200); // a is now the most recently used

    store.take('c', 100, 200); // evicts b

    expect(store.take('a', 100, 200).allowed).toBe(false);
    expect(store.take('b', 100, 200).allowed).toBe(true);
    jest.restoreAllMocks();
  });

  it('should start and stop its sweep timer once', () => {
    const store = new MemoryBucketStore({ clock });
    store.onModuleInit();
    store.onModuleInit();
    store.onModuleDestroy();
    expect(store.size).toBe(0);
  });
});
