import { RollingWindow } from './rolling-window';

describe('RollingWindow (injected time)', () => {
  it('should count calls and failures inside the window', () => {
    const w = new RollingWindow(10_000, 10);
    w.record(false, 0);
    w.record(true, 500);
    w.record(true, 9_000);
    expect(w.total(9_500)).toBe(3);
    expect(w.failed(9_500)).toBe(2);
  });

  it('should drop a slice once the window has moved past it', () => {
    const w = new RollingWindow(10_000, 10);
    w.record(true, 0); // slice [0, 1000)
    w.record(false, 1_500); // slice [1000, 2000)
    expect(w.total(9_999)).toBe(2);
    // At 10 000 the window is slices [1000, 11000): the first call is gone.
    expect(w.total(10_000)).toBe(1);
    expect(w.failed(10_000)).toBe(0);
    expect(w.total(11_000)).toBe(0);
  });

  it('should empty completely after a pause longer than the window', () => {
    const w = new RollingWindow(10_000, 10);
    for (let t = 0; t < 10_000; t += 100) {
      w.record(t % 200 === 0, t);
    }
    expect(w.total(9_999)).toBe(100);
    expect(w.failed(9_999)).toBe(50);
    expect(w.total(1_000_000)).toBe(0);
    expect(w.failed(1_000_000)).toBe(0);
    w.record(true, 1_000_001);
    expect([w.total(1_000_001), w.failed(1_000_001)]).toEqual([1, 1]);
  });

  it('should keep exact sums while sliding slice by slice', () => {
    const w = new RollingWindow(1_000, 4); // 250 ms slices
    const events: { t: number; failed: boolean }[] = [];
    let t = 0;
    for (let i = 0; i < 400; i++) {
      t += 7 + (i % 13) * 5;
      const failed = i % 3 === 0;
      w.record(failed, t);
      events.push({ t, failed });
      // The window at `t` is every slice from (slice(t) - 3) to slice(t).
      const first = (Math.floor(t / 250) - 3) * 250;
      const inside = events.filter((e) => e.t >= first);
      expect(w.total(t)).toBe(inside.length);
      expect(w.failed(t)).toBe(inside.filter((e) => e.failed).length);
    }
  });

  it('should write into the newest slice when the clock steps back', () => {
    const w = new RollingWindow(10_000, 10);
    w.record(false, 5_000);
    w.record(true, 4_000);
    expect([w.total(5_000), w.failed(5_000)]).toEqual([2, 1]);
  });

  it('should forget everything on reset', () => {
    const w = new RollingWindow(10_000, 10);
    w.record(true, 1);
    w.reset();
    expect(w.total(2)).toBe(0);
    w.record(false, 3);
    expect(w.total(3)).toBe(1);
  });

  it.each([
    [0, 10],
    [-5, 10],
    [1000, 0],
    [1000, 2.5],
  ])('should reject windowMs=%s buckets=%s', (windowMs, buckets) => {
    expect(() => new RollingWindow(windowMs, buckets)).toThrow(RangeError);
  });
});
