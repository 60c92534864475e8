import { canonicalizePath } from './request-path';

describe('canonicalizePath', () => {
  it.each([
    ['/', '/'],
    ['/api/users', '/api/users'],
    ['/api/users/', '/api/users/'],
    ['/a/./b', '/a/b'],
    ['/a/b/..', '/a/'],
    ['/a/b/../c', '/a/c'],
    ['/a//b///c', '/a/b/c'],
    ['/a/%2e/b', '/a/b'],
    ['/a/%2E%2e/b', '/b'],
    ['/api/pub/%2e%2e/priv', '/api/priv'],
    ['/a/.%2e/b', '/b'],
    ['/a/%20b', '/a/%20b'],
    ['/a/%3F%23', '/a/%3F%23'],
    ['/%61dmin-api/users', '/admin-api/users'],
    ['/a/%7euser/%2D', '/a/~user/-'],
    ['/a/%252e%252e/b', '/a/%252e%252e/b'],
    ['/a/...', '/a/...'],
    ['/a/.hidden', '/a/.hidden'],
  ])('should canonicalise %p to %p', (input, expected) => {
    expect(canonicalizePath(input)).toEqual({ ok: true, path: expected });
  });

  it.each([
    ['/..', 'escapes'],
    ['/a/../..', 'escapes'],
    ['/%2e%2e/etc/passwd', 'escapes'],
    ['/a/..%2fb', 'encoded slash'],
    ['/a%2F..%2F..%2Fb', 'encoded slash'],
    ['/a/%5c..%5cb', 'encoded slash'],
    ['/a\\..\\b', 'backslash'],
    ['/a/%00', 'control'],
    ['/a/%0d%0aX-Injected:%201', 'control'],
    ['/a/%zz', 'malformed'],
    ['/a/%', 'malformed'],
    ['/pub/..;/priv', 'path parameters'],
    ['/pub/.;x/priv', 'path parameters'],
    ['/a/b;v=1/c', 'path parameters'],
    ['/app/admin;x/users', 'path parameters'],
    ['/app/admin;/users', 'path parameters'],
    ['/app/x;jsessionid=1', 'path parameters'],
    ['/app/admin%3Bx/users', 'path parameters'],
    ['/app/admin%3bx/users', 'path parameters'],
    ['/a/\u0001', 'control'],
    ['*', 'asterisk'],
    ['relative', 'must start'],
  ])('should reject %p', (input, reason) => {
    const r = canonicalizePath(input);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.reason).toContain(reason);
  });

  it('should return the same string for clean paths so the hot path allocates nothing', () => {
    const p = '/api/v1/items/42';
    const r = canonicalizePath(p);
    expect(r.ok && r.path).toBe(p);
  });
});
