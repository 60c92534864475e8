import { mapInSlices } from './slices';

describe('mapInSlices', () => {
  it('should map in order and let other callbacks run while a long list is mapped', async () => {
    const items = Array.from({ length: 5_000 }, (_, i) => i);
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    const busy = (i: number) => {
      const until = performance.now() + 0.01;
      while (performance.now() < until) {
        // about 10 µs of work per item: 50 ms in all
      }
      return i * 2;
    };
    const out = await mapInSlices(items, busy);
    clearInterval(ticker);
    expect(out).toEqual(items.map((i) => i * 2));
    expect(turns).toBeGreaterThan(2);
    expect(await mapInSlices([], busy)).toEqual([]);
  });
});
