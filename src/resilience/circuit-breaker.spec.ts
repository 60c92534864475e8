import { CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from './circuit-breaker';

/** A breaker on a hand-stepped clock, recording its transitions. */
function setup(options: Omit<CircuitBreakerOptions, 'clock' | 'onStateChange'> = {}) {
  let now = 1_000;
  const transitions: [CircuitState, CircuitState][] = [];
  const breaker = new CircuitBreaker({
    maxFailures: 3,
    openMs: 10_000,
    ...options,
    clock: () => now,
    onStateChange: (from, to) => transitions.push([from, to]),
  });
  const advance = (ms: number): void => {
    now += ms;
  };
  const fail = (times: number): void => {
    for (let i = 0; i < times; i++) {
      expect(breaker.tryAcquire()).toBe(true);
      breaker.record('failed-exchange');
    }
  };
  return { breaker, transitions, advance, fail };
}

describe('CircuitBreaker', () => {
  describe('closed', () => {
    it('should start closed and grant every request', () => {
      const { breaker } = setup();

      expect(breaker.state).toBe('closed');
      for (let i = 0; i < 100; i++) {
        expect(breaker.tryAcquire()).toBe(true);
      }
      expect(breaker.isAvailable()).toBe(true);
      expect(breaker.trips).toBe(0);
    });

    it('should open at exactly maxFailures consecutive failures', () => {
      const { breaker, fail, transitions } = setup({ maxFailures: 3 });

      fail(2);
      expect(breaker.state).toBe('closed');
      expect(breaker.failures).toBe(2);

      fail(1);
      expect(breaker.state).toBe('open');
      expect(breaker.trips).toBe(1);
      expect(transitions).toEqual([['closed', 'open']]);
    });

    it('should open on the first failure when maxFailures is 1', () => {
      const { breaker, fail } = setup({ maxFailures: 1 });

      fail(1);

      expect(breaker.state).toBe('open');
    });

    it('should restart the streak after a success', () => {
      const { breaker, fail } = setup({ maxFailures: 3 });

      fail(2);
      breaker.record('success');
      fail(2);

      expect(breaker.state).toBe('closed');
      expect(breaker.failures).toBe(2);
    });

    it('should neither break nor extend the streak on a neutral outcome', () => {
      const { breaker, fail } = setup({ maxFailures: 3 });

      fail(2);
      breaker.record('neutral');
      breaker.record('neutral');
      expect(breaker.state).toBe('closed');
      expect(breaker.failures).toBe(2);

      fail(1);
      expect(breaker.state).toBe('open');
    });

    it('should use the default thresholds (5 failures, 30 s)', () => {
      let now = 0;
      const breaker = new CircuitBreaker({ clock: () => now });

      for (let i = 0; i < 4; i++) {
        breaker.record('failed-exchange');
      }
      expect(breaker.state).toBe('closed');
      breaker.record('failed-exchange');
      expect(breaker.state).toBe('open');

      now = 29_999;
      expect(breaker.tryAcquire()).toBe(false);
      now = 30_000;
      expect(breaker.tryAcquire()).toBe(true);
      expect(breaker.state).toBe('half-open');
    });
  });

  describe('open', () => {
    it('should refuse requests until openMs has elapsed, then grant one trial', () => {
      const { breaker, fail, advance, transitions } = setup({ openMs: 10_000 });
      fail(3);

      advance(9_999);
      expect(breaker.isAvailable()).toBe(false);
      expect(breaker.tryAcquire()).toBe(false);
      expect(breaker.state).toBe('open');

      advance(1);
      expect(breaker.isAvailable()).toBe(true);
      expect(breaker.state).toBe('open');
      expect(breaker.tryAcquire()).toBe(true);
      expect(breaker.state).toBe('half-open');
      expect(transitions).toEqual([
        ['closed', 'open'],
        ['open', 'half-open'],
      ]);
    });

    it('should accept an explicit time instead of its clock', () => {
      const { breaker, fail } = setup({ openMs: 10_000 });
      fail(3); // opened at t=1000

      expect(breaker.isAvailable(10_999)).toBe(false);
      expect(breaker.tryAcquire(10_999)).toBe(false);
      expect(breaker.isAvailable(11_000)).toBe(true);
      expect(breaker.tryAcquire(11_000)).toBe(true);
    });

    it('should ignore outcomes of requests admitted before it opened', () => {
      const { breaker, fail, advance } = setup({ openMs: 10_000 });
      fail(3);

      advance(6_000);
      breaker.record('failed-exchange'); // a straggler: must not push the trial back
      breaker.record('success'); // nor close the breaker early
      breaker.record('neutral');

      expect(breaker.state).toBe('open');
      expect(breaker.trips).toBe(1);
      advance(4_000);
      expect(breaker.tryAcquire()).toBe(true);
    });
  });

  describe('half-open', () => {
    function halfOpen() {
      const ctx = setup({ openMs: 10_000 });
      ctx.fail(3);
      ctx.advance(10_000);
      expect(ctx.breaker.tryAcquire()).toBe(true);
      return ctx;
    }

    it('should grant exactly one trial when two requests race for it', () => {
      const { fail, advance, breaker } = setup({ openMs: 10_000 });
      fail(3);
      advance(10_000);

      const first = breaker.tryAcquire();
      const second = breaker.tryAcquire();

      expect([first, second]).toEqual([true, false]);
      expect(breaker.isAvailable()).toBe(false);
    });

    it('should refuse everything while the trial is out, however long it takes', () => {
      const { breaker, advance } = halfOpen();

      for (let i = 0; i < 10; i++) {
        advance(60_000);
        expect(breaker.tryAcquire()).toBe(false);
      }
      expect(breaker.state).toBe('half-open');
    });

    it('should close on a successful trial and then grant everything', () => {
      const { breaker, transitions } = halfOpen();

      breaker.record('success');

      expect(breaker.state).toBe('closed');
      expect(breaker.failures).toBe(0);
      expect(breaker.tryAcquire()).toBe(true);
      expect(breaker.tryAcquire()).toBe(true);
      expect(transitions.at(-1)).toEqual(['half-open', 'closed']);
    });

    it('should need maxFailures fresh failures to open again after closing', () => {
      const { breaker, fail } = halfOpen();
      breaker.record('success');

      fail(2);
      expect(breaker.state).toBe('closed');
      fail(1);
      expect(breaker.state).toBe('open');
      expect(breaker.trips).toBe(2);
    });

    it('should re-open on a failed trial and restart the open timer', () => {
      const { breaker, advance, transitions } = halfOpen();
      advance(5_000);

      breaker.record('failed-exchange'); // re-opened at +5 s

      expect(breaker.state).toBe('open');
      expect(breaker.trips).toBe(2);
      expect(transitions.at(-1)).toEqual(['half-open', 'open']);
      advance(9_999);
      expect(breaker.tryAcquire()).toBe(false);
      advance(1);
      expect(breaker.tryAcquire()).toBe(true);
      expect(breaker.state).toBe('half-open');
    });

    it('should release the trial on a neutral outcome without judging the upstream', () => {
      const { breaker } = halfOpen();
      expect(breaker.tryAcquire()).toBe(false);

      breaker.record('neutral'); // the trial's client went away

      expect(breaker.state).toBe('half-open');
      expect(breaker.isAvailable()).toBe(true);
      expect(breaker.tryAcquire()).toBe(true);
      expect(breaker.tryAcquire()).toBe(false);
    });

    it('should not consume the trial when only asked whether it is available', () => {
      const { fail, advance, breaker } = setup({ openMs: 10_000 });
      fail(3);
      advance(10_000);

      for (let i = 0; i < 5; i++) {
        expect(breaker.isAvailable()).toBe(true);
      }

      expect(breaker.state).toBe('open');
      expect(breaker.tryAcquire()).toBe(true);
    });
  });

  describe('failure rate over the rolling window', () => {
    /** 10 s window in 1 s slices, 20 calls at least, 50 %; the streak rule out of the way. */
    function rate(options: Omit<CircuitBreakerOptions, 'clock' | 'onStateChange'> = {}) {
      return setup({
        maxFailures: 1_000,
        failureRatePercent: 50,
        minRequests: 20,
        windowMs: 10_000,
        ...options,
      });
    }

    it('should open once failures reach the rate with at least minRequests calls', () => {
      const { breaker, transitions } = rate();
      for (let i = 0; i < 10; i++) {
        breaker.record('success');
      }
      for (let i = 0; i < 9; i++) {
        breaker.record('failed-status');
      }
      // 9 of 19: below the minimum number of calls, whatever the rate.
      expect(breaker.state).toBe('closed');
      breaker.record('failed-status'); // 10 of 20 = 50 %
      expect(breaker.state).toBe('open');
      expect(breaker.tripCause).toBe('rate');
      expect(transitions).toEqual([['closed', 'open']]);
    });

    it('should not open on a high rate over too few calls', () => {
      const { breaker } = rate();
      for (let i = 0; i < 19; i++) {
        breaker.record('failed-status');
      }
      expect(breaker.state).toBe('closed');
    });

    it('should stay closed at 20 % failures with runs of failure statuses, however long', () => {
      const { breaker, advance } = rate();
      // 200 req/s for 30 s: every fifth a failure status, and a run of 5 now and then.
      for (let second = 0; second < 30; second++) {
        for (let i = 0; i < 200; i++) {
          const inRun = second % 7 === 3 && i >= 100 && i < 105;
          breaker.record(inRun || i % 5 === 0 ? 'failed-status' : 'success');
        }
        advance(1_000);
      }
      expect(breaker.state).toBe('closed');
      expect(breaker.trips).toBe(0);
    });

    it('should forget calls older than the window', () => {
      const { breaker, advance } = rate();
      for (let i = 0; i < 15; i++) {
        breaker.record('failed-status');
      }
      advance(10_000); // every slice of the first burst is now outside the window
      for (let i = 0; i < 10; i++) {
        breaker.record('success');
      }
      for (let i = 0; i < 9; i++) {
        breaker.record('failed-status');
      }
      // 9 of 19 in the window: the 15 old failures no longer count.
      expect(breaker.state).toBe('closed');
    });

    it('should count exchange failures in the rate too', () => {
      const { breaker } = rate();
      for (let i = 0; i < 10; i++) {
        breaker.record('success');
        breaker.record(i % 2 === 0 ? 'failed-exchange' : 'failed-status');
      }
      expect(breaker.state).toBe('open');
    });

    it('should ignore neutral outcomes in the rate', () => {
      const { breaker } = rate();
      for (let i = 0; i < 100; i++) {
        breaker.record('neutral');
      }
      for (let i = 0; i < 19; i++) {
        breaker.record('failed-status');
      }
      expect(breaker.state).toBe('closed');
    });

    it('should start from an empty window after a trial closed it', () => {
      const { breaker, advance } = rate({ openMs: 1_000 });
      for (let i = 0; i < 20; i++) {
        breaker.record('failed-status');
      }
      expect(breaker.state).toBe('open');
      advance(1_000);
      expect(breaker.tryAcquire()).toBe(true);
      breaker.record('success');
      expect(breaker.state).toBe('closed');
      for (let i = 0; i < 19; i++) {
        breaker.record('failed-status');
      }
      expect(breaker.state).toBe('closed');
    });

    it('should be off at 0 %', () => {
      const { breaker } = rate({ failureRatePercent: 0 });
      for (let i = 0; i < 1000; i++) {
        breaker.record('failed-status');
      }
      expect(breaker.state).toBe('closed');
    });

    it('should use the defaults (50 % of at least 20 calls in 10 s)', () => {
      let now = 0;
      const breaker = new CircuitBreaker({ clock: () => now });
      for (let i = 0; i < 10; i++) {
        breaker.record('success');
        breaker.record('failed-status');
      }
      expect(breaker.state).toBe('open');
      expect(breaker.openMs).toBe(30_000);
      now = 30_000;
      expect(breaker.tryAcquire()).toBe(true);
    });
  });

  describe('consecutive exchange failures', () => {
    it('should not count failure statuses in the streak, and let an answer end it', () => {
      const { breaker } = setup({ maxFailures: 3, failureRatePercent: 0 });
      breaker.record('failed-exchange');
      breaker.record('failed-exchange');
      breaker.record('failed-status'); // the upstream answered: the exchange works
      breaker.record('failed-exchange');
      breaker.record('failed-exchange');
      expect(breaker.state).toBe('closed');
      breaker.record('failed-exchange');
      expect(breaker.state).toBe('open');
      expect(breaker.tripCause).toBe('consecutive');
    });

    it('should refuse panic traffic after consecutive exchange failures, not after a rate trip', () => {
      const streak = setup({ maxFailures: 2 });
      streak.fail(2);
      expect(streak.breaker.allowsPanic()).toBe(false);

      const byRate = setup({ maxFailures: 100, minRequests: 4 });
      for (let i = 0; i < 4; i++) {
        byRate.breaker.record('failed-status');
      }
      expect(byRate.breaker.state).toBe('open');
      expect(byRate.breaker.allowsPanic()).toBe(true);
      expect(setup().breaker.allowsPanic()).toBe(true);
    });

    it('should take the cause of a failed trial when it re-opens', () => {
      const { breaker, fail, advance } = setup({ maxFailures: 3, openMs: 1_000 });
      fail(3);
      advance(1_000);
      expect(breaker.tryAcquire()).toBe(true);
      breaker.record('failed-status');
      expect(breaker.state).toBe('open');
      expect(breaker.tripCause).toBe('rate');
    });
  });

  describe('active probe passed', () => {
    it('should move an open breaker to half-open at once, with one trial', () => {
      const { breaker, fail, transitions } = setup({ openMs: 60_000 });
      fail(3);
      expect(breaker.tryAcquire()).toBe(false);

      breaker.onProbeSuccess();

      expect(breaker.state).toBe('half-open');
      expect(transitions.at(-1)).toEqual(['open', 'half-open']);
      expect(breaker.tryAcquire()).toBe(true);
      expect(breaker.tryAcquire()).toBe(false);
      breaker.record('success');
      expect(breaker.state).toBe('closed');
    });

    it('should leave closed and half-open breakers alone', () => {
      const { breaker, fail, advance, transitions } = setup({ openMs: 1_000 });
      breaker.onProbeSuccess();
      expect(breaker.state).toBe('closed');
      fail(3);
      advance(1_000);
      expect(breaker.tryAcquire()).toBe(true); // trial out
      breaker.onProbeSuccess();
      expect(breaker.tryAcquire()).toBe(false); // still the one trial
      expect(transitions).toEqual([
        ['closed', 'open'],
        ['open', 'half-open'],
      ]);
    });
  });

  describe('reset', () => {
    it('should close an open breaker, keep the trip count and report the transition', () => {
      const { breaker, fail, transitions } = setup();
      fail(3);

      breaker.reset();

      expect(breaker.state).toBe('closed');
      expect(breaker.failures).toBe(0);
      expect(breaker.trips).toBe(1);
      expect(breaker.tryAcquire()).toBe(true);
      expect(transitions.at(-1)).toEqual(['open', 'closed']);
    });

    it('should clear the streak of a closed breaker without a transition', () => {
      const { breaker, fail, transitions } = setup();
      fail(2);

      breaker.reset();
      fail(2);

      expect(breaker.state).toBe('closed');
      expect(transitions).toEqual([]);
    });

    it('should free a pending half-open trial', () => {
      const { breaker, fail, advance } = setup({ openMs: 0 });
      fail(3);
      advance(0);
      expect(breaker.tryAcquire()).toBe(true);

      breaker.reset();

      expect(breaker.state).toBe('closed');
      expect(breaker.tryAcquire()).toBe(true);
    });
  });

  it('should keep independent state per instance', () => {
    const a = setup();
    const b = setup();

    a.fail(3);

    expect(a.breaker.state).toBe('open');
    expect(b.breaker.state).toBe('closed');
    expect(b.breaker.tryAcquire()).toBe(true);
  });

  it('should work without a state-change callback or injected clock', () => {
    const breaker = new CircuitBreaker({ maxFailures: 1, openMs: 60_000 });

    breaker.record('failed-exchange');

    expect(breaker.state).toBe('open');
    expect(breaker.tryAcquire()).toBe(false);
  });

  it.each([
    [{ maxFailures: 0 }, /maxFailures/],
    [{ maxFailures: 1.5 }, /maxFailures/],
    [{ openMs: -1 }, /openMs/],
    [{ openMs: Number.NaN }, /openMs/],
    [{ failureRatePercent: 101 }, /failureRatePercent/],
    [{ failureRatePercent: -1 }, /failureRatePercent/],
    [{ minRequests: 0 }, /minRequests/],
    [{ windowMs: 0 }, /windowMs/],
  ])('should reject invalid options %j', (options, message) => {
    expect(() => new CircuitBreaker(options)).toThrow(message);
  });
});
