import { LatencyWindow, RateWindow } from './traffic-windows';

describe('LatencyWindow', () => {
  it('should report zeros before any traffic', () => {
    expect(new LatencyWindow().summary(10_000)).toEqual({ p50: 0, p90: 0, p99: 0, max: 0 });
  });

  it('should estimate percentiles from buckets, never above the maximum seen', () => {
    const w = new LatencyWindow();
    const t = 100_000;
    // 90 fast (~1.5 ms, bucket 1–2 ms) and 10 slow (~400 ms, bucket 300–500 ms).
    for (let i = 0; i < 90; i++) {
      w.record(1.5, t);
    }
    for (let i = 0; i < 10; i++) {
      w.record(400, t);
    }
    const s = w.summary(t);
    expect(s.p50).toBeGreaterThanOrEqual(1);
    expect(s.p50).toBeLessThanOrEqual(2);
    expect(s.p90).toBeLessThanOrEqual(2);
    expect(s.p99).toBeGreaterThanOrEqual(300);
    expect(s.p99).toBeLessThanOrEqual(400);
    expect(s.max).toBe(400);
  });

  it('should forget samples older than a minute', () => {
    const w = new LatencyWindow();
    w.record(1000, 0);
    w.record(2, 59_000);
    expect(w.summary(59_000).max).toBe(1000);
    // 61 s later the first slot is out of the window; the second is still in.
    expect(w.summary(61_000).max).toBe(2);
    expect(w.summary(125_000)).toEqual({ p50: 0, p90: 0, p99: 0, max: 0 });
  });

  it('should reuse a slot after wrapping around without mixing old counts in', () => {
    const w = new LatencyWindow();
    w.record(5000, 1_000);
    // Same slot index 60 s later.
    w.record(1, 61_000);
    const s = w.summary(61_000);
    expect(s.max).toBe(1);
    expect(s.p99).toBeLessThanOrEqual(1);
  });

  it('should place values past the last bound in the overflow bucket', () => {
    const w = new LatencyWindow();
    w.record(90_000, 1000);
    const s = w.summary(1000);
    expect(s.max).toBe(90_000);
    expect(s.p50).toBeGreaterThan(60_000);
    expect(s.p99).toBeLessThanOrEqual(90_000);
  });
});

describe('RateWindow', () => {
  it('should average over the last 10 s', () => {
    const w = new RateWindow();
    for (let s = 0; s < 20; s++) {
      for (let i = 0; i < 5; i++) {
        w.record(i === 0, s * 1000 + 10);
      }
    }
    // At the end of second 19: seconds 10..19 hold 50 requests, 10 errors, over ~10 s.
    const r = w.rates(19_999, 0);
    expect(r.requestsPerSecond).toBeCloseTo(5, 0);
    expect(r.errorsPerSecond).toBeCloseTo(1, 0);
  });

  it('should not under-report in the first seconds of a process', () => {
    const w = new RateWindow();
    for (let i = 0; i < 20; i++) {
      w.record(false, 1500);
    }
    // Started at 1000, now 2000: 20 requests in 1 s.
    expect(w.rates(2000, 1000).requestsPerSecond).toBe(20);
  });

  it('should drop seconds that left the window', () => {
    const w = new RateWindow();
    w.record(true, 500);
    expect(w.rates(5000, 0).requestsPerSecond).toBeGreaterThan(0);
    expect(w.rates(11_000, 0)).toEqual({ requestsPerSecond: 0, errorsPerSecond: 0 });
  });
});
