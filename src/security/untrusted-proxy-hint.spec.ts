import { privateRangeOf, UntrustedProxyHint } from './untrusted-proxy-hint';

describe('UntrustedProxyHint', () => {
  it('should speak once, for X-Forwarded-For from a private or loopback peer', () => {
    const said: string[] = [];
    const hint = new UntrustedProxyHint(false, (peer, range) => said.push(`${peer} ${range}`));

    hint.check('10.2.3.4', undefined);
    hint.check('203.0.113.9', '198.51.100.1');
    expect(said).toEqual([]);

    hint.check('10.2.3.4', '198.51.100.1');
    hint.check('192.168.1.1', '198.51.100.1');
    expect(said).toEqual(['10.2.3.4 10.0.0.0/8']);
  });

  it('should never speak when trusted proxies are configured', () => {
    const said: string[] = [];
    const hint = new UntrustedProxyHint(true, (peer) => said.push(peer));

    hint.check('127.0.0.1', '198.51.100.1');
    expect(said).toEqual([]);
  });

  it.each([
    ['10.0.0.1', '10.0.0.0/8'],
    ['172.31.255.1', '172.16.0.0/12'],
    ['192.168.0.9', '192.168.0.0/16'],
    ['100.64.1.1', '100.64.0.0/10'],
    ['127.0.0.1', '127.0.0.0/8'],
    ['::1', '::1/128'],
    ['fd00::5', 'fc00::/7'],
    ['fe80::1', 'fe80::/10'],
    ['172.32.0.1', undefined],
    ['8.8.8.8', undefined],
    ['2001:db8::1', undefined],
    ['', undefined],
  ])('%s is in %s', (ip, range) => {
    expect(privateRangeOf(ip)).toBe(range);
  });
});
