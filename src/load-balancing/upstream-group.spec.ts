import { Logger } from '@nestjs/common';
import type { Dispatcher } from 'undici';
import { CircuitBreaker } from '../resilience/circuit-breaker';
import { createStrategy } from './strategies/create-strategy';
import { Upstream } from './upstream';
import { UpstreamGroup } from './upstream-group';

let now = 0;

function pool(n: number) {
  const upstreams = Array.from({ length: n }, (_, i) => {
    const u = new Upstream(`http://10.0.0.${i + 1}:80`, 1, {} as Dispatcher);
    u.breaker = new CircuitBreaker({
      maxFailures: 3,
      openMs: 60_000,
      minRequests: 4,
      clock: () => now,
    });
    return u;
  });
  const counted: string[] = [];
  const group = new UpstreamGroup(upstreams, createStrategy('round-robin'), {
    inc: (route) => counted.push(route),
  });
  const breaker = (i: number) => upstreams[i].breaker as CircuitBreaker;
  /** Opens a breaker on the failure rate (a run of 503s). */
  const rateOpen = (i: number) => {
    for (let k = 0; k < 4; k++) {
      breaker(i).record('failed-status');
    }
    expect(breaker(i).state).toBe('open');
  };
  /** Opens a breaker on consecutive exchange failures (refused connections). */
  const streakOpen = (i: number) => {
    for (let k = 0; k < 3; k++) {
      breaker(i).record('failed-exchange');
    }
    expect(breaker(i).tripCause).toBe('consecutive');
  };
  const spread = (picks: number) => {
    const seen = new Map<string, number>();
    for (let k = 0; k < picks; k++) {
      const u = group.choose('1.2.3.4', [], 'api');
      seen.set(u?.key ?? 'none', (seen.get(u?.key ?? 'none') ?? 0) + 1);
    }
    return seen;
  };
  return {
    upstreams,
    group,
    breaker,
    rateOpen,
    streakOpen,
    spread,
    counted,
    panics: () => counted.length,
  };
}

describe('UpstreamGroup panic routing', () => {
  let warn: jest.SpyInstance;
  let log: jest.SpyInstance;

  beforeEach(() => {
    now = 1_000;
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('should route normally while at least half of the probed-up upstreams are usable', () => {
    const { group, upstreams, rateOpen, spread, panics } = pool(3);
    rateOpen(0);
    const seen = spread(100);
    expect(seen.get(upstreams[0].key)).toBeUndefined();
    expect(seen.get(upstreams[1].key)).toBe(50);
    expect(group.panicking).toBe(false);
    expect(panics()).toBe(0);
  });

  it('should spread over every probed-up upstream once fewer than half are usable', () => {
    const { group, upstreams, rateOpen, spread, panics } = pool(3);
    rateOpen(0);
    upstreams[1].ejected = true;
    const seen = spread(90);
    expect(upstreams.map((u) => seen.get(u.key))).toEqual([30, 30, 30]);
    expect(group.panicking).toBe(true);
    expect(panics()).toBe(90);
    // Logged once when entering, not per request.
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String((warn.mock.calls as unknown[][])[0][0])).toMatch(
      /route api \(upstreams http:\/\/10\.0\.0\.1\/, .*\): panic routing: 1 of 3/,
    );
  });

  it('should never use an upstream active probes call down, nor a drained one', () => {
    const { upstreams, rateOpen, spread } = pool(3);
    rateOpen(0);
    rateOpen(1);
    upstreams[2].healthy = false;
    // 0 usable of 2 probed up: panic over those two only.
    const seen = spread(40);
    expect(seen.get(upstreams[2].key)).toBeUndefined();
    expect(seen.get(upstreams[0].key)).toBe(20);
    upstreams[1].draining = true;
    expect(spread(10).get(upstreams[0].key)).toBe(10);
  });

  it('should not send panic traffic to an upstream whose breaker opened on exchange failures', () => {
    const { upstreams, rateOpen, streakOpen, spread } = pool(3);
    rateOpen(0);
    streakOpen(1);
    upstreams[2].ejected = true;
    const seen = spread(30);
    expect(seen.get(upstreams[1].key)).toBeUndefined();
    expect(seen.get(upstreams[0].key)).toBe(15);
    expect(seen.get(upstreams[2].key)).toBe(15);
  });

  it('should answer nothing when every upstream is probed down or failing at the exchange level', () => {
    const { group, upstreams, streakOpen } = pool(2);
    streakOpen(0);
    upstreams[1].healthy = false;
    expect(group.choose('1.2.3.4', [], 'api')).toBeUndefined();
    expect(group.canServe()).toBe(false);
  });

  it('should keep a single upstream whose breaker opened on the failure rate in service', () => {
    const { group, upstreams, rateOpen, panics } = pool(1);
    rateOpen(0);
    expect(upstreams[0].isAvailable()).toBe(false);
    expect(group.choose('1.2.3.4', [], 'api')).toBe(upstreams[0]);
    expect(group.canServe()).toBe(true);
    expect(panics()).toBe(1);
  });

  it('should answer 503 for a single upstream that keeps refusing connections (fail fast)', () => {
    const { group, streakOpen } = pool(1);
    streakOpen(0);
    expect(group.choose('1.2.3.4', [], 'api')).toBeUndefined();
  });

  it('should take the half-open trial through the breaker when panic reaches it', () => {
    const { group, upstreams, breaker, rateOpen } = pool(1);
    rateOpen(0);
    now += 60_000;
    expect(group.choose('1.2.3.4', [], 'api')).toBe(upstreams[0]);
    // The pick claimed the trial: the breaker turned half-open; panic still sends the rest.
    expect(breaker(0).state).toBe('half-open');
    expect(group.choose('1.2.3.4', [], 'api')).toBe(upstreams[0]);
    breaker(0).record('success');
    expect(breaker(0).state).toBe('closed');
    // Back to normal routing, logged once.
    expect(group.choose('1.2.3.4', [], 'api')).toBe(upstreams[0]);
    expect(group.panicking).toBe(false);
    expect((log.mock.calls as unknown[][]).map((c) => String(c[0]))).toContain(
      'route api (upstreams http://10.0.0.1/): panic routing over: 1 of 1 probed-up upstream(s) usable',
    );
  });

  it('should prefer an untried panic candidate on a retry', () => {
    const { group, upstreams, rateOpen } = pool(2);
    rateOpen(0);
    rateOpen(1);
    for (let k = 0; k < 10; k++) {
      expect(group.choose('1.2.3.4', [upstreams[0]], 'api')).toBe(upstreams[1]);
    }
  });

  it('should stay in panic when a probe half-opens a breaker that tripped on the failure rate', () => {
    const { group, upstreams, breaker, rateOpen } = pool(1);
    rateOpen(0);
    expect(group.choose('1.2.3.4', [], 'api')).toBe(upstreams[0]);
    breaker(0).onProbeSuccess();
    expect(breaker(0).state).toBe('half-open');
    // The trial goes out in panic; its failure re-opens the breaker without leaving panic.
    expect(group.choose('1.2.3.4', [], 'api')).toBe(upstreams[0]);
    expect(group.panicking).toBe(true);
    breaker(0).record('failed-status');
    expect(group.choose('1.2.3.4', [], 'api')).toBe(upstreams[0]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(log).not.toHaveBeenCalled();
  });

  it('should keep one panic state for the routes sharing a group and count each by its route', () => {
    const { group, rateOpen, counted } = pool(2);
    rateOpen(0);
    rateOpen(1);
    expect(group.choose('1.2.3.4', [], 'orders')).toBeDefined();
    expect(group.choose('1.2.3.4', [], 'billing')).toBeDefined();
    expect(group.choose('1.2.3.4', [], 'billing')).toBeDefined();
    expect(counted).toEqual(['orders', 'billing', 'billing']);
    // One state change for the servers, named by the request that found them so.
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String((warn.mock.calls as unknown[][])[0][0])).toMatch(/^route orders \(upstreams /);
  });
});
