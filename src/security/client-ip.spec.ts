import { BlockList } from 'node:net';
import { addToBlockList, ClientIpResolver, normalizeIp } from './client-ip';

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
