import type { Dispatcher } from 'undici';
import { Upstream } from '../upstream';
import { IpHashStrategy } from './ip-hash.strategy';
import { LeastConnectionsStrategy } from './least-connections.strategy';
import { RoundRobinStrategy } from './round-robin.strategy';
import { WeightedStrategy } from './weighted.strategy';

const noDispatcher = {} as Dispatcher;
const make = (n: number, weights: number[] = []): Upstream[] =>
  Array.from(
    { length: n },
    (_, i) => new Upstream(`http://10.0.0.${i + 1}:80`, weights[i] ?? 1, noDispatcher),
  );

function counts(picks: (Upstream | undefined)[]): Map<string | undefined, number> {
  const m = new Map<string | undefined, number>();
  for (const p of picks) {
    m.set(p?.key, (m.get(p?.key) ?? 0) + 1);
  }
  return m;
}

describe('RoundRobinStrategy', () => {
  it('should give equal shares and skip unavailable upstreams', () => {
    const ups = make(3);
    const s = new RoundRobinStrategy();
    expect([0, 1, 2, 3, 4, 5].map(() => s.pick(ups)?.key)).toEqual(
      [0, 1, 2, 0, 1, 2].map((i) => ups[i].key),
    );
    ups[1].healthy = false;
    const c = counts(Array.from({ length: 100 }, () => s.pick(ups)));
    expect(c.get(ups[1].key)).toBeUndefined();
    expect(c.get(ups[0].key)).toBe(50);
  });

  it('should return undefined when nothing is available', () => {
    const ups = make(2);
    ups.forEach((u) => (u.healthy = false));
    expect(new RoundRobinStrategy().pick(ups)).toBeUndefined();
  });
});

describe('WeightedStrategy', () => {
  it('should interleave weights 5,1,1 smoothly like nginx', () => {
    const ups = make(3, [5, 1, 1]);
    const s = new WeightedStrategy();
    const seq = Array.from({ length: 7 }, () => ups.indexOf(s.pick(ups)!));
    expect(seq).toEqual([0, 0, 1, 0, 2, 0, 0]);
  });

  it('should honour 3:1 exactly over whole cycles', () => {
    const ups = make(2, [3, 1]);
    const s = new WeightedStrategy();
    const c = counts(Array.from({ length: 4000 }, () => s.pick(ups)));
    expect(c.get(ups[0].key)).toBe(3000);
  });
});

describe('LeastConnectionsStrategy', () => {
  it('should prefer the upstream with the fewest in-flight requests per weight', () => {
    const ups = make(3);
    ups[0].inFlight = 5;
    ups[1].inFlight = 1;
    ups[2].inFlight = 3;
    expect(new LeastConnectionsStrategy().pick(ups)).toBe(ups[1]);
  });

  it('should share ties instead of always choosing the first', () => {
    const ups = make(3);
    const s = new LeastConnectionsStrategy();
    const c = counts(Array.from({ length: 300 }, () => s.pick(ups)));
    expect([...c.values()]).toEqual([100, 100, 100]);
  });
});

describe('IpHashStrategy', () => {
  it('should be sticky per client IP', () => {
    const ups = make(4);
    const s = new IpHashStrategy();
    for (let i = 0; i < 50; i++) {
      const ip = `198.51.100.${i}`;
      expect(s.pick(ups, ip)).toBe(s.pick(ups, ip));
    }
  });

  it('should remap only the clients of a removed upstream', () => {
    const ups = make(5);
    const s = new IpHashStrategy();
    const ips = Array.from({ length: 5000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.7`);
    const before = ips.map((ip) => s.pick(ups, ip));
    ups[2].healthy = false;
    const after = ips.map((ip) => s.pick(ups, ip));
    let moved = 0;
    ips.forEach((_, i) => {
      if (before[i] !== after[i]) {
        moved++;
        expect(before[i]).toBe(ups[2]);
      }
    });
    // About 1/5 of clients were on the removed upstream.
    expect(moved / ips.length).toBeGreaterThan(0.15);
    expect(moved / ips.length).toBeLessThan(0.25);
  });

  it('should spread clients roughly evenly', () => {
    const ups = make(4);
    const s = new IpHashStrategy();
    const c = counts(
      Array.from({ length: 8000 }, (_, i) => s.pick(ups, `172.16.${i >> 8}.${i & 255}`)),
    );
    for (const n of c.values()) {
      expect(n).toBeGreaterThan(1700);
      expect(n).toBeLessThan(2300);
    }
  });
});
