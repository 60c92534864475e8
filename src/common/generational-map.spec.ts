import { GenerationalMap } from './generational-map';

describe('GenerationalMap', () => {
  it('should never hold more than its cap', () => {
    const map = new GenerationalMap<number>(10_000);

    for (let i = 0; i < 1_000_000; i++) {
      map.set(`k${i}`, i);
    }

    expect(map.size).toBeLessThanOrEqual(10_000);
    expect(map.get('k999999')).toBe(999_999);
    expect(map.get('k0')).toBeUndefined();
  });

  it('should keep an entry that is used at least once per generation', () => {
    const map = new GenerationalMap<string>(4);
    map.set('hot', 'h');

    for (let i = 0; i < 100; i++) {
      map.set(`cold${i}`, 'c');
      expect(map.get('hot')).toBe('h');
    }
  });

  it('should report each generation dropped by the cap', () => {
    const dropped: string[][] = [];
    const map = new GenerationalMap<number>(4, (gen) => dropped.push([...gen.keys()]));

    for (const key of ['a', 'b', 'c', 'd', 'e']) {
      map.set(key, 1);
    }

    expect(dropped).toEqual([['a', 'b']]);
    expect([...map.entries()].map(([key]) => key).sort()).toEqual(['c', 'd', 'e']);
  });

  it('should delete, overwrite and sweep entries in either generation', () => {
    const map = new GenerationalMap<number>(4);
    map.set('a', 1);
    map.set('b', 2);
    map.set('c', 3); // a, b are now the older generation
    map.set('a', 10);

    expect(map.get('a')).toBe(10);
    expect(map.size).toBe(3);
    expect(map.delete('b')).toBe(true);
    expect(map.delete('b')).toBe(false);
    expect(map.deleteWhere((value) => value > 5)).toBe(1);
    expect([...map.entries()]).toEqual([['c', 3]]);
    map.clear();
    expect(map.size).toBe(0);
  });
});
