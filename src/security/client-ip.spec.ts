import { BlockList } from 'node:net';
import { addToBlockList, ClientIpResolver, clientKey, isClientKey, normalizeIp } from './client-ip';

describe('normalizeIp', () => {
  it('should unwrap IPv4-mapped IPv6 addresses', () => {
    expect(normalizeIp('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(normalizeIp('::1')).toBe('::1');
    expect(normalizeIp('2001:db8::1')).toBe('2001:db8::1');
    expect(normalizeIp(undefined)).toBe('');
  });
});

describe('ClientIpResolver', () => {
  it('should use the socket peer when no proxy is trusted', () => {
    const r = new ClientIpResolver([]);
    expect(r.resolve('203.0.113.9', '1.2.3.4')).toBe('203.0.113.9');
  });

  it('should ignore X-Forwarded-For from an untrusted peer', () => {
    const r = new ClientIpResolver(['10.0.0.0/8']);
    expect(r.resolve('203.0.113.9', '1.2.3.4')).toBe('203.0.113.9');
  });

  it('should walk the chain from the right past trusted hops', () => {
    const r = new ClientIpResolver(['10.0.0.0/8', '2001:db8::/32']);
    expect(r.resolve('10.0.0.1', '6.6.6.6, 198.51.100.4, 10.0.0.7')).toBe('198.51.100.4');
    expect(r.resolve('10.0.0.1', ['6.6.6.6', '198.51.100.4'])).toBe('198.51.100.4');
    expect(r.resolve('2001:db8::1', '198.51.100.4')).toBe('198.51.100.4');
  });

  it('should stop at a garbled hop and keep the last trusted address', () => {
    const r = new ClientIpResolver(['10.0.0.0/8']);
    expect(r.resolve('10.0.0.1', 'not-an-ip')).toBe('10.0.0.1');
    expect(r.resolve('10.0.0.1', '198.51.100.4, junk, 10.0.0.2')).toBe('10.0.0.2');
  });

  it('should return the leftmost address when every hop is trusted', () => {
    const r = new ClientIpResolver(['10.0.0.0/8']);
    expect(r.resolve('10.0.0.1', '10.0.0.5, 10.0.0.6')).toBe('10.0.0.5');
  });
});

describe('addToBlockList', () => {
  it('should accept addresses and CIDRs of both families and reject junk', () => {
    const list = new BlockList();
    addToBlockList(list, '192.0.2.1');
    addToBlockList(list, '198.51.100.0/24');
    addToBlockList(list, '2001:db8::/32');
    expect(list.check('198.51.100.200', 'ipv4')).toBe(true);
    expect(list.check('2001:db8::5', 'ipv6')).toBe(true);
    expect(() => addToBlockList(list, 'example.com')).toThrow('not an IP');
    expect(() => addToBlockList(list, '10.0.0.0/33')).toThrow('prefix');
  });
});

describe('clientKey', () => {
  it('should keep IPv4 addresses as they are, whatever the prefix', () => {
    expect(clientKey('203.0.113.9', 64)).toBe('203.0.113.9');
    expect(clientKey('203.0.113.9', 1)).toBe('203.0.113.9');
  });

  it('should reduce IPv6 addresses to their network, in RFC 5952 form', () => {
    expect(clientKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd', 64)).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:DB8:1:2::1', 64)).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:0db8:0001:0002:0:0:0:0001', 64)).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:20ff::1', 56)).toBe('2001:db8:1:2000::/56');
    expect(clientKey('2001:db8:1:2ff::1', 57)).toBe('2001:db8:1:280::/57');
    expect(clientKey('2001:db8::1', 48)).toBe('2001:db8::/48');
    expect(clientKey('::1', 64)).toBe('::/64');
    expect(clientKey('fe80::1%eth0', 64)).toBe('fe80::/64');
    expect(clientKey('2001:db8:0:0:1::7', 80)).toBe('2001:db8:0:0:1::/80');
    expect(clientKey('64:ff9b::192.0.2.33', 96)).toBe('64:ff9b::/96');
    expect(clientKey('64:ff9b::192.0.2.33', 112)).toBe('64:ff9b::c000:0/112');
  });

  it('should give every address of one /64 the same key, and a neighbour a different one', () => {
    const keys = new Set(
      ['2001:db8:5:6::1', '2001:db8:5:6:ffff::', '2001:db8:5:6:1234:5678:9abc:def0'].map((ip) =>
        clientKey(ip, 64),
      ),
    );
    expect([...keys]).toEqual(['2001:db8:5:6::/64']);
    expect(clientKey('2001:db8:5:7::1', 64)).toBe('2001:db8:5:7::/64');
  });

  it('should keep every IPv6 address apart at 128, and leave garbage untouched', () => {
    expect(clientKey('2001:db8::1', 128)).toBe('2001:db8::1');
    expect(clientKey('not:an:address', 64)).toBe('not:an:address');
    expect(clientKey('1:2:3:4:5:6:7:8:9', 64)).toBe('1:2:3:4:5:6:7:8:9');
  });
});

describe('isClientKey', () => {
  it('should accept addresses and the IPv6 networks clientKey writes, nothing else', () => {
    expect(isClientKey('203.0.113.9')).toBe(true);
    expect(isClientKey('2001:db8::1')).toBe(true);
    expect(isClientKey('2001:db8:1:2::/64')).toBe(true);
    expect(isClientKey('10.0.0.0/8')).toBe(false);
    expect(isClientKey('2001:db8::/129')).toBe(false);
    expect(isClientKey('x|y')).toBe(false);
  });
});
