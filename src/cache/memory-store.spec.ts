import type { CacheEntry } from './cache-entry';
import { decodeItem, encodeItem } from './cache-entry';
import { MemoryStore } from './memory-store';
import { storedEntry as entry } from './testing/stored-entry';

const none = () => '';

describe('MemoryStore', () => {
  it('evicts least recently used entries past its byte cap', () => {
    const store = new MemoryStore(3_000);
    store.save('a', entry('a'.repeat(900)), '');
    store.save('b', entry('b'.repeat(900)), '');
    store.lookup('a', none, 0); // a is now the most recent
    store.save('c', entry('c'.repeat(900)), '');
    expect(store.lookup('b', none, 0)).toBeUndefined();
    expect(store.lookup('a', none, 0)?.body.toString()).toBe('a'.repeat(900));
    expect(store.lookup('c', none, 0)).toBeDefined();
    expect(store.usedBytes).toBeLessThanOrEqual(3_000);
    expect(store.evictions).toBe(1);
  });

  it('moves a hit entry to the recent end at most once a second, like Varnish lru_interval', () => {
    const store = new MemoryStore(3_000);
    const save = (k: string) => store.save(k, entry(k.repeat(900)), '');
    save('a');
    save('b');
    store.lookup('a', none, 10_000); // first hit: a moves past b
    store.lookup('b', none, 10_000); // b moves past a
    store.lookup('a', none, 10_500); // within the interval: a stays behind b
    save('c');
    expect(store.lookup('a', none, 10_600)).toBeUndefined();
    expect(store.lookup('b', none, 10_600)).toBeDefined();

    store.lookup('b', none, 12_000); // a second later: b moves past c again
    save('d');
    expect(store.lookup('c', none, 12_100)).toBeUndefined();
    expect(store.lookup('b', none, 12_100)).toBeDefined();
  });

  it('never stores an item larger than the whole store', () => {
    const store = new MemoryStore(100);
    store.save('big', entry('x'.repeat(200)), '');
    expect(store.size).toBe(0);
  });

  it('expired entries read as misses and are dropped', () => {
    const store = new MemoryStore(10_000);
    store.save('k', entry('v', { expiresAt: 50 }), '');
    expect(store.lookup('k', none, 49)).toBeDefined();
    expect(store.lookup('k', none, 50)).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('Vary: a marker plus one slot per variant; deleting the URL removes all variants', () => {
    const store = new MemoryStore(100_000);
    store.save('u', entry('en', { vary: ['accept-language'], variant: 'en' }), 'en');
    store.save('u', entry('fr', { vary: ['accept-language'], variant: 'fr' }), 'fr');
    expect(store.lookup('u', () => 'fr', 0)?.body.toString()).toBe('fr');
    expect(store.lookup('u', () => 'en', 0)?.body.toString()).toBe('en');
    expect(store.lookup('u', () => 'de', 0)).toBeUndefined();
    expect(store.size).toBe(3);
    // A response without Vary replaces every variant.
    store.save('u', entry('plain'), '');
    expect(store.size).toBe(1);
    store.save('v', entry('x', { vary: ['origin'] }), 'o');
    expect(store.deletePrimary('v')).toBe(true);
    expect(store.size).toBe(1);
    expect(store.usedBytes).toBeGreaterThan(0);
  });

  it('deleteWhere matches primary keys only', () => {
    const store = new MemoryStore(100_000);
    store.save('http://h/a/1', entry('1'), '');
    store.save('http://h/a/2', entry('2', { vary: ['x'] }), 'q');
    store.save('http://h/b', entry('3'), '');
    expect(store.deleteWhere((k) => k.startsWith('http://h/a/'))).toBe(2);
    expect(store.size).toBe(1);
  });
});

describe('Redis encoding', () => {
  it('round-trips entries byte-exact (every byte value) and markers', () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const e = entry(bytes, { etag: '"é"', headers: ['x-name', 'v\u00e9'] });
    const back = decodeItem(encodeItem(e));
    expect(back).toMatchObject({ status: 200, etag: '"é"', headers: ['x-name', 'v\u00e9'] });
    expect((back as CacheEntry).body.equals(bytes)).toBe(true);
    expect(decodeItem(encodeItem({ marker: true, vary: ['a'], expiresAt: 5 }))).toEqual({
      marker: true,
      vary: ['a'],
      expiresAt: 5,
    });
  });
  it('malformed values read as misses', () => {
    expect(decodeItem(Buffer.from([0, 0]))).toBeUndefined();
    expect(decodeItem(Buffer.from([0, 0, 0, 9, 1]))).toBeUndefined();
    expect(
      decodeItem(Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from('{x}')])),
    ).toBeUndefined();
  });
});
