import { Logger } from '@nestjs/common';
import type { Dispatcher } from 'undici';
import { OutlierDetector } from './outlier-detector';
import { createStrategy } from './strategies/create-strategy';
import { Upstream } from './upstream';
import { UpstreamGroup } from './upstream-group';

function pool(n: number): Upstream[] {
  const ups = Array.from(
    { length: n },
    (_, i) => new Upstream(`http://10.0.0.${i + 1}:80`, 1, {} as Dispatcher),
  );
  new UpstreamGroup(ups, createStrategy('round-robin'));
  return ups;
}

describe('OutlierDetector', () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  let now: number;
  let detector: OutlierDetector;
  const BASE = 30_000;

  beforeEach(() => {
    now = 1_000;
    detector = new OutlierDetector(
      { consecutiveFailures: 5, baseEjectionMs: BASE },
      () => now,
      () => undefined,
    );
  });

  const fail = (u: Upstream, times: number): void => {
    for (let i = 0; i < times; i++) {
      detector.recordOutcome(u, 'failed-exchange');
    }
  };

  it('should eject after N consecutive failures and not before', () => {
    const [a] = pool(4);

    fail(a, 4);
    expect(a.ejected).toBe(false);
    fail(a, 1);

    expect(a.ejected).toBe(true);
    expect(a.isAvailable()).toBe(false);
    expect(detector.ejectedUntil(a)).toBe(now + BASE);
  });

  it('should reset the count on success and ignore neutral outcomes', () => {
    const [a] = pool(4);

    fail(a, 4);
    detector.recordOutcome(a, 'success');
    fail(a, 4);
    detector.recordOutcome(a, 'neutral');

    expect(a.ejected).toBe(false);
    fail(a, 1);
    expect(a.ejected).toBe(true);
  });

  it('should bring an upstream back when its back-off expires', () => {
    const [a] = pool(2);
    fail(a, 5);

    now += BASE - 1;
    detector.sweep();
    expect(a.ejected).toBe(true);

    now += 1;
    detector.sweep();
    expect(a.ejected).toBe(false);
    expect(a.isAvailable()).toBe(true);
  });

  it('should double the period on repeated ejections, capped at 10x base', () => {
    const [a] = pool(2);
    const periods: number[] = [];
    for (let i = 0; i < 6; i++) {
      fail(a, 5);
      periods.push((detector.ejectedUntil(a) ?? 0) - now);
      now = detector.ejectedUntil(a) ?? now;
      detector.sweep();
    }

    expect(periods).toEqual([BASE, 2 * BASE, 4 * BASE, 8 * BASE, 10 * BASE, 10 * BASE]);
  });

  it('should re-eject a returned upstream on its first failure until it succeeds once', () => {
    const [a] = pool(2);
    fail(a, 5);
    now += BASE;
    detector.sweep();

    fail(a, 1);
    expect(a.ejected).toBe(true);
    expect((detector.ejectedUntil(a) ?? 0) - now).toBe(2 * BASE);

    now += 2 * BASE;
    detector.sweep();
    detector.recordOutcome(a, 'success');
    fail(a, 4);
    expect(a.ejected).toBe(false);
  });

  it('should forget earlier ejections after a well-behaved period', () => {
    const [a] = pool(2);
    fail(a, 5);
    now += BASE;
    detector.sweep();
    detector.recordOutcome(a, 'success');

    now += 5 * BASE;
    fail(a, 5);

    expect((detector.ejectedUntil(a) ?? 0) - now).toBe(BASE);
  });

  it('should never eject more than half of a pool', () => {
    const ups = pool(5);
    for (const u of ups) {
      fail(u, 5);
    }

    expect(ups.filter((u) => u.ejected)).toHaveLength(2);
  });

  it('should never eject the only upstream of a route', () => {
    const [only] = pool(1);
    fail(only, 50);

    expect(only.ejected).toBe(false);
  });

  it('should eject a waiting outlier once a slot frees up', () => {
    const [a, b] = pool(2);
    fail(a, 5);
    fail(b, 5);
    expect([a.ejected, b.ejected]).toEqual([true, false]);

    now += BASE;
    detector.sweep();
    fail(b, 1);

    expect([a.ejected, b.ejected]).toEqual([false, true]);
  });

  it('should notify listeners on ejection and return', () => {
    const [a] = pool(2);
    const events: [string, boolean][] = [];
    detector.onChange((u, ejected) => events.push([u.key, ejected]));

    fail(a, 5);
    now += BASE;
    detector.sweep();

    expect(events).toEqual([
      [a.key, true],
      [a.key, false],
    ]);
  });

  it('should do nothing when disabled (0 failures)', () => {
    const off = new OutlierDetector({ consecutiveFailures: 0, baseEjectionMs: BASE }, () => now);
    const [a] = pool(2);
    for (let i = 0; i < 100; i++) {
      off.recordOutcome(a, 'failed-exchange');
    }

    expect(a.ejected).toBe(false);
  });

  it('should return the upstream from its own timer', async () => {
    const real = new OutlierDetector({ consecutiveFailures: 1, baseEjectionMs: 20 });
    const [a] = pool(2);
    real.recordOutcome(a, 'failed-exchange');
    expect(a.ejected).toBe(true);

    // Poll rather than sleep a fixed time: a loaded CI machine may fire the timer late.
    const deadline = Date.now() + 5000;
    while (a.ejected && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }

    expect(a.ejected).toBe(false);
    real.dispose();
  });

  it('should combine health, ejection and the breaker hook in isAvailable()', () => {
    const [a] = pool(2);
    a.breaker = {
      isAvailable: () => false,
      tryAcquire: () => false,
      allowsPanic: () => true,
      onProbeSuccess: () => undefined,
      state: 'open',
    };
    expect(a.isAvailable()).toBe(false);

    a.breaker = {
      isAvailable: () => true,
      tryAcquire: () => true,
      allowsPanic: () => true,
      onProbeSuccess: () => undefined,
      state: 'closed',
    };
    expect(a.isAvailable()).toBe(true);

    a.healthy = false;
    expect(a.isAvailable()).toBe(false);
  });

  it('should count failure statuses like exchange failures, and nothing else', () => {
    const [a] = pool(4);
    fail(a, 2);
    for (let i = 0; i < 3; i++) {
      detector.recordOutcome(a, 'failed-status');
    }
    expect(a.ejected).toBe(true);
  });

  it('should end an ejection as soon as an active probe passes, on probation', () => {
    const [a] = pool(4);
    const events: boolean[] = [];
    detector.onChange((_u, ejected) => events.push(ejected));
    fail(a, 5);
    expect(a.ejected).toBe(true);

    detector.onProbeSuccess(a);

    expect(a.ejected).toBe(false);
    expect(detector.ejectedUntil(a)).toBeUndefined();
    expect(events).toEqual([true, false]);
    // Probation: one failure of live traffic puts it back out.
    fail(a, 1);
    expect(a.ejected).toBe(true);
  });

  it('should ignore a passed probe of an upstream that is not ejected', () => {
    const [a] = pool(4);
    const events: boolean[] = [];
    detector.onChange((_u, ejected) => events.push(ejected));
    fail(a, 4);
    detector.onProbeSuccess(a);
    expect(a.ejected).toBe(false);
    expect(events).toEqual([]);
    // The failure count of live traffic is live traffic's business: one more ejects.
    fail(a, 1);
    expect(a.ejected).toBe(true);
  });

  it('should eject on demand (a stall) within the cap', () => {
    const [a, b] = pool(3);
    expect(detector.eject(a, 'stalled')).toBe(true);
    expect(detector.ejectedUntil(a)).toBe(now + BASE);
    // floor(3 * 50 %) = 1 may be ejected at once.
    expect(detector.eject(b, 'stalled')).toBe(false);
    expect(b.ejected).toBe(false);
  });
});
