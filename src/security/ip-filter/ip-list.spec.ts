import { canonicalIpEntry, IpList } from './ip-list';

describe('canonicalIpEntry', () => {
  it('should normalise IPv4-mapped, upper-case and uncompressed spellings', () => {
    expect(canonicalIpEntry(' 10.0.0.0/8 ')).toBe('10.0.0.0/8');
    expect(canonicalIpEntry('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(canonicalIpEntry('::ffff:10.0.0.0/104')).toBe('10.0.0.0/8');
    expect(canonicalIpEntry('2001:0DB8:0000::/32')).toBe('2001:db8::/32');
    expect(canonicalIpEntry('2001:db8::1')).toBe('2001:db8::1');
  });

  it('should reject what is not an IP or CIDR', () => {
    expect(() => canonicalIpEntry('example.com')).toThrow('not an IP address or CIDR');
    expect(() => canonicalIpEntry('10.0.0.0/33')).toThrow('invalid CIDR prefix');
    expect(() => canonicalIpEntry('10.0.0.0/8/8')).toThrow('not an IP address or CIDR');
  });
});

describe('IpList', () => {
  let now: number;
  const clock = () => now;

  beforeEach(() => {
    now = 1_000_000;
  });

  it('should match IPv4 and IPv6 addresses inside its CIDRs', () => {
    const list = new IpList(['10.0.0.0/8', '2001:db8::/32', '198.51.100.7'], clock);

    expect(list.has('10.200.1.2')).toBe(true);
    expect(list.has('11.0.0.1')).toBe(false);
    expect(list.has('2001:db8:ffff::1')).toBe(true);
    expect(list.has('2001:db9::1')).toBe(false);
    expect(list.has('198.51.100.7')).toBe(true);
    expect(list.has('198.51.100.8')).toBe(false);
  });

  it('should never match an empty list or a garbled address', () => {
    expect(new IpList([], clock).has('10.0.0.1')).toBe(false);
    expect(new IpList(['10.0.0.0/8'], clock).has('')).toBe(false);
    expect(new IpList(['10.0.0.0/8'], clock).has('not-an-ip')).toBe(false);
  });

  it('should add and remove entries at run time, in any spelling', () => {
    const list = new IpList([], clock);

    expect(list.add('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(list.has('192.0.2.1')).toBe(true);
    expect(list.remove('192.0.2.1')).toBe(true);
    expect(list.remove('192.0.2.1')).toBe(false);
    expect(list.remove('garbage')).toBe(false);
    expect(list.has('192.0.2.1')).toBe(false);
  });

  it('should drop an entry when its expiry passes', () => {
    const list = new IpList(['10.0.0.0/8'], clock);
    list.add('192.0.2.0/24', 60_000);

    now += 59_999;
    expect(list.has('192.0.2.9')).toBe(true);
    expect(list.snapshot()).toEqual([
      { entry: '10.0.0.0/8' },
      { entry: '192.0.2.0/24', expiresAt: 1_060_000 },
    ]);

    now += 1;
    expect(list.has('192.0.2.9')).toBe(false);
    expect(list.has('10.1.1.1')).toBe(true);
    expect(list.size).toBe(1);
  });
  it('should replace all entries at once, skipping invalid and expired ones', () => {
    const list = new IpList(['10.0.0.0/8'], clock);

    const kept = list.replace([
      { entry: '::ffff:192.0.2.1' },
      { entry: '198.51.100.0/24', expiresAt: now + 1_000 },
      { entry: 'garbage' },
      { entry: '203.0.113.9', expiresAt: now },
    ]);

    expect(kept).toBe(2);
    expect(list.has('10.1.1.1')).toBe(false);
    expect(list.has('192.0.2.1')).toBe(true);
    expect(list.has('198.51.100.20')).toBe(true);
    expect(list.has('203.0.113.9')).toBe(false);
    now += 1_000;
    expect(list.has('198.51.100.20')).toBe(false);
  });
});
