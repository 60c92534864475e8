import { AdminAuthLimiter } from './admin-auth-limiter';

describe('AdminAuthLimiter', () => {
  let now = 1_000_000;
  const limiter = () => new AdminAuthLimiter(3, 60_000, 100, () => now);

  beforeEach(() => {
    now = 1_000_000;
  });

  it('should answer 429 to failures past the limit, until the window ends', () => {
    const l = limiter();
    expect([1, 2, 3].map(() => l.recordFailure('10.0.0.1'))).toEqual([0, 0, 0]);
    expect(l.recordFailure('10.0.0.1')).toBe(60);
    expect(l.recordFailure('10.0.0.2')).toBe(0);
    now += 59_001;
    expect(l.recordFailure('10.0.0.1')).toBe(1);
    now += 999;
    expect(l.recordFailure('10.0.0.1')).toBe(0);
  });

  it('should start a new window after the old one ended', () => {
    const l = limiter();
    l.recordFailure('10.0.0.1');
    l.recordFailure('10.0.0.1');
    now += 60_000;
    expect([1, 2, 3].map(() => l.recordFailure('10.0.0.1'))).toEqual([0, 0, 0]);
  });

  it('should keep memory bounded whatever the number of IPs', () => {
    const l = limiter();
    for (let i = 0; i < 10_000; i++) {
      l.recordFailure(`10.0.${i >> 8}.${i & 255}`);
    }
    expect((l as unknown as { failures: { size: number } }).failures.size).toBeLessThanOrEqual(200);
  });
});
