import { VerifiedTokenCache } from './verified-token-cache';

describe('VerifiedTokenCache', () => {
  let now: number;
  const clock = () => now;

  beforeEach(() => {
    now = 1_000;
  });

  it('should return an entry until its expiry, then forget it', () => {
    const cache = new VerifiedTokenCache<string>(10, clock);
    cache.set('t1', 'outcome', 2_000);

    expect(cache.get('t1')).toBe('outcome');
    now = 1_999;
    expect(cache.get('t1')).toBe('outcome');
    now = 2_000;
    expect(cache.get('t1')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('should evict the least recently used entry beyond its size', () => {
    const cache = new VerifiedTokenCache<number>(2, clock);
    cache.set('a', 1, 9_999);
    cache.set('b', 2, 9_999);

    cache.get('a');
    cache.set('c', 3, 9_999);

    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
    expect(cache.size).toBe(2);
  });

  it('should forget everything on clear and store nothing with size 0', () => {
    const cache = new VerifiedTokenCache<number>(2, clock);
    cache.set('a', 1, 9_999);
    cache.clear();
    const disabled = new VerifiedTokenCache<number>(0, clock);
    disabled.set('a', 1, 9_999);

    expect(cache.get('a')).toBeUndefined();
    expect(disabled.size).toBe(0);
  });
});
