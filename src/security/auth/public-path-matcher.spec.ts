import { PublicPathMatcher } from './public-path-matcher';

describe('PublicPathMatcher', () => {
  const matcher = new PublicPathMatcher(['/health', '/login', '/api/v1/public/*', '/']);

  it('should match exact entries only exactly', () => {
    expect(matcher.matches('/health')).toBe(true);
    expect(matcher.matches('/login')).toBe(true);
    expect(matcher.matches('/')).toBe(true);
    // The Go gateway's HasPrefix made all of these public (seed-spec §5).
    expect(matcher.matches('/healthz')).toBe(false);
    expect(matcher.matches('/login/admin')).toBe(false);
    expect(matcher.matches('/login/')).toBe(false);
    expect(matcher.matches('/Login')).toBe(false);
  });

  it('should match explicit prefixes on a segment boundary', () => {
    expect(matcher.matches('/api/v1/public/')).toBe(true);
    expect(matcher.matches('/api/v1/public/docs/a.json')).toBe(true);
    expect(matcher.matches('/api/v1/publicity')).toBe(false);
    expect(matcher.matches('/api/v1/public')).toBe(false);
    expect(matcher.matches('/api/v1/private')).toBe(false);
  });

  it('should make nothing public when there are no entries', () => {
    expect(new PublicPathMatcher([]).matches('/')).toBe(false);
  });

  it('should make everything public with "/*"', () => {
    expect(new PublicPathMatcher(['/*']).matches('/anything/at/all')).toBe(true);
  });
});
