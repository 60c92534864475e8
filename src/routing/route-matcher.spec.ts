import { RouteMatcher } from './route-matcher';

describe('RouteMatcher', () => {
  const table = new RouteMatcher<string>([
    { host: '', prefix: '/', value: 'any-root' },
    { host: '', prefix: '/api', value: 'any-api' },
    { host: '', prefix: '/api/v1', value: 'any-api-v1' },
    { host: '', prefix: '/files/', value: 'any-files-slash' },
    { host: 'api.example.com', prefix: '/', value: 'exact-root' },
    { host: 'api.example.com', prefix: '/v2', value: 'exact-v2' },
    { host: '*.example.com', prefix: '/', value: 'wild-root' },
    { host: '*.eu.example.com', prefix: '/', value: 'wild-eu' },
    { host: 'only-prefix.test', prefix: '/x', value: 'exact-x' },
  ]);

  it.each([
    // [host, path, expected value, expected rest]
    ['other.test', '/', 'any-root', '/'],
    ['other.test', '/api', 'any-api', '/'],
    ['other.test', '/api/', 'any-api', '/'],
    ['other.test', '/api/users', 'any-api', '/users'],
    ['other.test', '/api/v1/users', 'any-api-v1', '/users'],
    ['other.test', '/api/v11', 'any-api', '/v11'],
    ['other.test', '/apix', 'any-root', '/apix'],
    ['other.test', '/files/a.txt', 'any-files-slash', '/a.txt'],
    ['other.test', '/files', 'any-root', '/files'],
    ['api.example.com', '/api/v1/x', 'exact-root', '/api/v1/x'],
    ['API.Example.COM:8443', '/v2/x', 'exact-v2', '/x'],
    ['api.example.com.', '/v2', 'exact-v2', '/'],
    ['a.example.com', '/anything', 'wild-root', '/anything'],
    ['a.b.example.com', '/', 'wild-root', '/'],
    ['x.eu.example.com', '/', 'wild-eu', '/'],
    ['example.com', '/', 'any-root', '/'],
    ['notexample.com', '/', 'any-root', '/'],
    ['example.com.evil.com', '/', 'any-root', '/'],
    // An exact host whose prefixes do not match falls through to wildcard, then any-host routes.
    ['only-prefix.test', '/y', 'any-root', '/y'],
    ['only-prefix.test', '/x/1', 'exact-x', '/1'],
    [undefined, '/api', 'any-api', '/'],
  ])('should route host %p path %p to %p', (host, path, value, rest) => {
    const m = table.match(host, path);
    expect(m?.value).toBe(value);
    expect(m?.rest).toBe(rest);
  });

  it('should return undefined when nothing matches', () => {
    const t = new RouteMatcher<string>([{ host: 'a.test', prefix: '/a', value: 'a' }]);
    expect(t.match('a.test', '/b')).toBeUndefined();
    expect(t.match('b.test', '/a')).toBeUndefined();
  });

  it('should keep declaration order among equal-length prefixes of one host', () => {
    const t = new RouteMatcher<string>([
      { host: '', prefix: '/ab', value: 'first' },
      { host: '', prefix: '/cd', value: 'second' },
    ]);
    expect(t.match('h', '/ab/x')?.value).toBe('first');
    expect(t.match('h', '/cd')?.value).toBe('second');
  });

  it('should match IPv6 literal hosts with and without a port', () => {
    const t = new RouteMatcher<string>([{ host: '::1', prefix: '/', value: 'v6' }]);
    expect(t.match('[::1]:9777', '/')?.value).toBe('v6');
    expect(t.match('[::1]', '/')?.value).toBe('v6');
  });
});
