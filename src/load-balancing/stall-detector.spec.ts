import { Logger } from '@nestjs/common';
import type { Dispatcher } from 'undici';
import { OutlierDetector } from './outlier-detector';
import { StallDetector } from './stall-detector';
import { createStrategy } from './strategies/create-strategy';
import { Upstream, type WaitingAttempt } from './upstream';
import { UpstreamGroup } from './upstream-group';

/** A request waiting on an upstream; `movable` says whether a retry would be allowed. */
class FakeAttempt implements WaitingAttempt {
  waitStartedAt = 0;
  waitPrev: WaitingAttempt | undefined;
  waitNext: WaitingAttempt | undefined;
  waitingOn: Upstream | undefined;
  moved = false;
  constructor(readonly movable = true) {}
  stalled(): boolean {
    if (!this.movable) {
      return false;
    }
    this.moved = true;
    // What the exchange does: the abort settles the attempt, which leaves the list.
    this.waitingOn?.attemptSettled(this);
    return true;
  }
}

describe('StallDetector', () => {
  let now: number;
  let ups: Upstream[];
  let group: UpstreamGroup;
  let outliers: OutlierDetector;
  let detector: StallDetector;

  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  beforeEach(() => {
    now = 1_000;
    ups = [1, 2, 3].map((i) => new Upstream(`http://10.0.0.${i}:80`, 1, {} as Dispatcher));
    group = new UpstreamGroup(ups, createStrategy('round-robin'));
    outliers = new OutlierDetector(
      { consecutiveFailures: 5, baseEjectionMs: 30_000 },
      () => now,
      () => undefined,
    );
    detector = new StallDetector({ stallMs: 500, tickMs: 1_000_000 }, outliers, () => now);
    detector.track(group);
  });
  afterEach(() => detector.dispose());

  /** Sends one request to `u` now. */
  const send = (u: Upstream, movable = true): FakeAttempt => {
    const a = new FakeAttempt(movable);
    u.attemptWaiting(a, now);
    return a;
  };
  /** `u` answers a request that took `ms`. */
  const answer = (u: Upstream, ms = 2): void => {
    const a = new FakeAttempt();
    u.attemptWaiting(a, now - ms);
    u.attemptAnswered(a, now);
  };
  /** Peers 1 and 2 answer fresh requests every 10 ms for `ms`. */
  const peersBusy = (ms: number): void => {
    for (let t = 0; t < ms; t += 10) {
      now += 10;
      answer(ups[1]);
      answer(ups[2]);
    }
  };

  it('should eject a silent upstream and move its waiting requests once peers answer newer ones', () => {
    answer(ups[0]);
    const waiting = [send(ups[0]), send(ups[0])];
    peersBusy(490);
    detector.tick(now);
    expect(ups[0].ejected).toBe(false);
    peersBusy(20);
    detector.tick(now);
    expect(ups[0].ejected).toBe(true);
    expect(waiting.map((w) => w.moved)).toEqual([true, true]);
    expect(ups[0].waitHead).toBeUndefined();
  });

  it('should leave requests that cannot move (a POST) waiting, and act once per quiet period', () => {
    const post = send(ups[0], false);
    const get = send(ups[0]);
    peersBusy(600);
    detector.tick(now);
    expect([post.moved, get.moved, ups[0].ejected]).toEqual([false, true, true]);
    expect(ups[0].waitHead).toBe(post);
    const handledAt = ups[0].stallHandledAt;
    detector.tick(now);
    expect(ups[0].stallHandledAt).toBe(handledAt);
  });

  it('should not call an upstream stalled when its peers are not answering newer requests either', () => {
    const w = send(ups[0]);
    now += 5_000; // nobody answered anything: the network or the gateway, not one upstream
    detector.tick(now);
    expect([w.moved, ups[0].ejected]).toEqual([false, false]);
  });

  it('should judge a route by its own pace: twice the slowest recent answer when that is longer', () => {
    // This pool answers some requests in 2 s (a report endpoint).
    answer(ups[1], 2_000);
    const report = send(ups[0]);
    peersBusy(3_000);
    detector.tick(now);
    expect(report.moved).toBe(false);
    peersBusy(1_100); // past 2 × 2 s
    detector.tick(now);
    expect(report.moved).toBe(true);
  });

  it('should forget a slow answer after a minute or two', () => {
    answer(ups[1], 5_000);
    now += 130_000;
    const w = send(ups[0]);
    peersBusy(600);
    detector.tick(now);
    expect(w.moved).toBe(true);
  });

  it('should restart the quiet period on any answer of the upstream itself', () => {
    const slow = send(ups[0]);
    peersBusy(400);
    answer(ups[0]); // alive: it answered something else
    peersBusy(400);
    detector.tick(now);
    expect(slow.moved).toBe(false);
  });

  it('should not watch a pool of one, nor anything when turned off', () => {
    const single = new Upstream('http://10.0.1.1:80', 1, {} as Dispatcher);
    const alone = new UpstreamGroup([single], createStrategy('round-robin'));
    detector.track(alone);
    const w = send(single);
    now += 10_000;
    detector.tick(now);
    expect(w.moved).toBe(false);

    const off = new StallDetector({ stallMs: 0 }, outliers, () => now);
    expect(off.enabled).toBe(false);
    off.track(group);
    const x = send(ups[0]);
    peersBusy(1_000);
    off.tick(now);
    expect(x.moved).toBe(false);
  });

  it('should stop watching a retired pool', () => {
    detector.untrack(group);
    const w = send(ups[0]);
    peersBusy(1_000);
    detector.tick(now);
    expect(w.moved).toBe(false);
  });
});
