import { MemoryBucketStore } from './memory-bucket-store';
import type { RateDecision } from './rate-limit-headers';
import { RateLimitService, toDecision } from './rate-limit.service';
import type { BucketTake, RateLimitStorage } from './rate-limit-storage.interface';

describe('RateLimitService', () => {
  let now: number;
  let service: RateLimitService;

  beforeEach(() => {
    now = 0;
    service = new RateLimitService(new MemoryBucketStore({ clock: () => now }), {
      rate: 100,
      burst: 200,
    });
  });

  function consume(key = '198.51.100.1'): RateDecision {
    const decision = service.consume(key);
    if (decision instanceof Promise) {
      throw new Error('the memory store must answer synchronously');
    }
    return decision;
  }

  it('should admit 200 at once with the defaults, deny the 201st, then admit 100 per second', () => {
    const first = consume();
    expect(first).toEqual({
      allowed: true,
      limit: 200,
      remaining: 199,
      resetSeconds: 1,
      retryAfterSeconds: 0,
      policy: 'default',
      windowSeconds: 2,
    });
    for (let i = 2; i <= 200; i++) {
      expect(consume().allowed).toBe(true);
    }
    expect(consume()).toEqual({
      allowed: false,
      limit: 200,
      remaining: 0,
      resetSeconds: 2,
      retryAfterSeconds: 1,
      policy: 'default',
      windowSeconds: 2,
    });

    now += 1_000;
    for (let i = 0; i < 100; i++) {
      expect(consume().allowed).toBe(true);
    }
    expect(consume().allowed).toBe(false);
  });

  it('should report the remaining budget as it drains and refills', () => {
    for (let i = 0; i < 143; i++) {
      consume();
    }
    expect(consume()).toMatchObject({ allowed: true, remaining: 56, resetSeconds: 2 });

    now += 500;
    expect(consume()).toMatchObject({ remaining: 105, resetSeconds: 1 });
  });

  it('should use the route limits and name them', () => {
    const decision = service.consume('users:198.51.100.1', 0.5, 2, 'users') as RateDecision;
    expect(decision).toEqual({
      allowed: true,
      limit: 2,
      remaining: 1,
      resetSeconds: 2,
      retryAfterSeconds: 0,
      policy: 'users',
      windowSeconds: 4,
    });
    expect(service.consume('users:198.51.100.1', 0.5, 2)).toMatchObject({ allowed: true });
    expect(service.consume('users:198.51.100.1', 0.5, 2)).toMatchObject({
      allowed: false,
      retryAfterSeconds: 2,
      policy: 'route',
    });
  });

  it('should return a promise only when the storage does', async () => {
    const asyncStorage: RateLimitStorage = {
      take: (): Promise<BucketTake> => Promise.resolve({ allowed: true, tokens: 7.5 }),
    };
    const remote = new RateLimitService(asyncStorage, { rate: 10, burst: 10 });

    const decision = remote.consume('k');

    expect(decision).toBeInstanceOf(Promise);
    await expect(decision).resolves.toMatchObject({ allowed: true, remaining: 7, resetSeconds: 1 });
  });
});

describe('toDecision', () => {
  it('should not claim a reset for a bucket that float error left a hair below full', () => {
    expect(toDecision({ allowed: true, tokens: 199.99999999999 }, 100, 200, 'p').resetSeconds).toBe(
      0,
    );
  });

  it('should ask a denied client to wait at least one second', () => {
    expect(toDecision({ allowed: false, tokens: 0.999 }, 1000, 5, 'p').retryAfterSeconds).toBe(1);
  });
});
