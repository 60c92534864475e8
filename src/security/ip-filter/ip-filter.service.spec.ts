import { Logger } from '@nestjs/common';
import { IpFilterService, type IpFilterOptions } from './ip-filter.service';

describe('IpFilterService', () => {
  let now: number;
  const clock = () => now;

  beforeEach(() => {
    // Start of a window, so the sliding estimate is easy to follow.
    now = 1_700_000_040_000;
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  function filter(options: Partial<IpFilterOptions> = {}): IpFilterService {
    return new IpFilterService({
      allow: [],
      deny: [],
      threshold: 1000,
      blockDurationMs: 600_000,
      clock,
      ...options,
    });
  }

  function recordMany(f: IpFilterService, ip: string, n: number): number {
    let triggered = 0;
    for (let i = 0; i < n; i++) {
      if (!f.check(ip).blocked && f.record(ip)) {
        triggered++;
      }
    }
    return triggered;
  }

  describe('allow and deny lists', () => {
    it('should classify by CIDR, IPv4 and IPv6, with allow winning over deny', () => {
      const f = filter({
        allow: ['10.1.0.0/16', '2001:db8:1::/48'],
        deny: ['10.0.0.0/8', '2001:db8::/32', '203.0.113.7'],
      });

      expect(f.classify('10.1.2.3')).toBe('allow');
      expect(f.classify('10.2.0.1')).toBe('deny');
      expect(f.classify('203.0.113.7')).toBe('deny');
      expect(f.classify('203.0.113.8')).toBe('none');
      expect(f.classify('2001:db8:1::5')).toBe('allow');
      expect(f.classify('2001:db8:2::5')).toBe('deny');
      expect(f.classify('2001:db9::1')).toBe('none');
    });

    it('should accept IPv4-mapped IPv6 entries and match the plain IPv4 client', () => {
      const f = filter({ deny: ['::ffff:198.51.100.0/120'] });

      expect(f.classify('198.51.100.200')).toBe('deny');
      expect(f.classify('198.51.101.1')).toBe('none');
    });

    it('should change at run time and let timed entries lapse', () => {
      const f = filter();
      f.denylist.add('192.0.2.0/24', 30_000);
      f.allowlist.add('192.0.2.10');

      expect(f.classify('192.0.2.9')).toBe('deny');
      expect(f.classify('192.0.2.10')).toBe('allow');
      now += 30_000;
      expect(f.classify('192.0.2.9')).toBe('none');
      expect(f.listEntries()).toEqual({ allow: [{ entry: '192.0.2.10' }], deny: [] });
    });
  });

  describe('flood blocking', () => {
    it('should block on the request after the threshold and count the block', () => {
      const f = filter();

      expect(recordMany(f, '198.51.100.1', 1000)).toBe(0);
      expect(f.check('198.51.100.1').blocked).toBe(false);
      expect(f.record('198.51.100.1')).toBe(true);

      expect(f.check('198.51.100.1')).toEqual({ blocked: true, retryAfterSeconds: 600 });
      expect(f.check('198.51.100.2').blocked).toBe(false);
      expect(f.blockedIpsTotal).toBe(1);
    });

    it('should see a burst that straddles a window edge (sliding, not fixed)', () => {
      const f = filter();
      now += 50_000;
      recordMany(f, 'ip', 600); // late in window 0

      now += 15_000; // 5 s into window 1: the estimate still weighs window 0 at 11/12
      expect(recordMany(f, 'ip', 500)).toBe(1);
      expect(f.check('ip').blocked).toBe(true);
    });

    it('should forget old traffic as the window slides', () => {
      const f = filter();
      recordMany(f, 'ip', 1000);

      now += 90_000; // half-way through the next window: 1000 × 0.5 = 500 still counted
      expect(recordMany(f, 'ip', 500)).toBe(0);
      expect(f.record('ip')).toBe(true);
    });

    it('should lift the block after BLOCK_DURATION and restart the count', () => {
      const f = filter({ threshold: 10, blockDurationMs: 60_000 });
      recordMany(f, 'ip', 11);

      now += 59_500;
      expect(f.check('ip')).toEqual({ blocked: true, retryAfterSeconds: 1 });
      now += 500;
      expect(f.check('ip')).toEqual({ blocked: false, retryAfterSeconds: 0 });
      expect(recordMany(f, 'ip', 10)).toBe(0);
    });

    it('should not count requests made while blocked', () => {
      const f = filter({ threshold: 5, blockDurationMs: 10_000 });
      recordMany(f, 'ip', 6);
      for (let i = 0; i < 100; i++) {
        expect(f.record('ip')).toBe(false);
      }

      now += 10_000;
      expect(recordMany(f, 'ip', 5)).toBe(0);
      expect(f.blockedIpsTotal).toBe(1);
    });

    it('should never count or block allowlisted clients', () => {
      const f = filter({ threshold: 5, allow: ['10.0.0.0/8'] });

      expect(recordMany(f, '10.0.0.1', 100)).toBe(0);
      f.block('10.0.0.1');
      expect(f.check('10.0.0.1').blocked).toBe(false);
      expect(f.trackedCount).toBe(0);
    });

    it('should block, list and unblock by hand', () => {
      const f = filter();
      f.block('203.0.113.9', 120_000);
      recordMany(f, '2001:db8::1', 1001);

      expect(f.listBlocked()).toEqual([
        { ip: '203.0.113.9', expiresAt: now + 120_000, reason: 'manual' },
        { ip: '2001:db8::1', expiresAt: now + 600_000, reason: 'flood' },
      ]);
      expect(f.unblock('2001:db8::1')).toBe(true);
      expect(f.unblock('2001:db8::1')).toBe(false);
      expect(f.check('2001:db8::1').blocked).toBe(false);
      expect(f.blockedIpsTotal).toBe(1);
    });

    it('should count and block IPv6 clients per network with ipv6Prefix, IPv4 per address', () => {
      const f = filter({ threshold: 10, ipv6Prefix: 64, allow: ['2001:db8:7:7::1'] });
      // Eleven addresses of one /64, one request each: one client past its threshold.
      for (let i = 1; i <= 11; i++) {
        if (!f.check(`2001:db8:5:6::${i.toString(16)}`).blocked) {
          f.record(`2001:db8:5:6::${i.toString(16)}`);
        }
      }
      expect(f.check('2001:db8:5:6:ffff::1').blocked).toBe(true);
      expect(f.check('2001:db8:5:7::1').blocked).toBe(false);
      expect(f.listBlocked()).toEqual([
        { ip: '2001:db8:5:6::/64', expiresAt: now + 600_000, reason: 'flood' },
      ]);
      expect(f.keyOf('203.0.113.9')).toBe('203.0.113.9');
      // Lifted by any address inside, or by the network as listed.
      expect(f.unblock('2001:db8:5:6::abcd')).toBe(true);
      expect(f.block('2001:db8:5:6::1', 1_000)).toBe('2001:db8:5:6::/64');
      expect(f.unblock('2001:db8:5:6::/64')).toBe(true);
      // An allowlisted address is never counted, even inside a counted network.
      recordMany(f, '2001:db8:7:7::1', 50);
      expect(f.check('2001:db8:7:7::2').blocked).toBe(false);
    });

    it('should sweep idle counters and expired blocks', () => {
      const f = filter({ threshold: 3, blockDurationMs: 1_000 });
      recordMany(f, 'a', 1);
      recordMany(f, 'b', 4);

      now += 120_000;
      f.sweep();

      expect(f.trackedCount).toBe(0);
      expect(f.blockedCount).toBe(0);
    });

    it('should keep memory bounded under 1,000,000 distinct IPs', () => {
      const f = filter({ maxKeys: 10_000 });

      for (let i = 0; i < 1_000_000; i++) {
        f.record(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
      }

      expect(f.trackedCount).toBeLessThanOrEqual(10_000);
    });

    it('should start and stop its timers without Redis', () => {
      const f = filter();
      f.onModuleInit();
      f.onModuleInit();
      f.onModuleDestroy();
      expect(f.blockedCount).toBe(0);
    });
  });
});
