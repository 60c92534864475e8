import { rateLimitHeaders, type RateDecision } from './rate-limit-headers';

describe('rateLimitHeaders', () => {
  const allowed: RateDecision = {
    allowed: true,
    limit: 200,
    remaining: 57,
    resetSeconds: 2,
    retryAfterSeconds: 0,
    policy: 'default',
    windowSeconds: 2,
  };

  it('should send the IETF draft fields and the X-RateLimit trio on success, no Retry-After', () => {
    expect(rateLimitHeaders(allowed)).toEqual([
      ['ratelimit-policy', '"default";q=200;w=2'],
      ['ratelimit', '"default";r=57;t=2'],
      ['x-ratelimit-limit', '200'],
      ['x-ratelimit-remaining', '57'],
      ['x-ratelimit-reset', '2'],
    ]);
  });

  it('should add Retry-After to a denial', () => {
    const denied = { ...allowed, allowed: false, remaining: 0, retryAfterSeconds: 1 };

    expect(rateLimitHeaders(denied)).toContainEqual(['retry-after', '1']);
    expect(rateLimitHeaders(denied)).toContainEqual(['ratelimit', '"default";r=0;t=2']);
  });

  it('should quote policy names as structured-field strings and omit an unknown window', () => {
    const odd = { ...allowed, policy: 'a"b\\c\u00e9', windowSeconds: undefined };

    expect(rateLimitHeaders(odd)[0]).toEqual(['ratelimit-policy', '"a\\"b\\\\c";q=200']);
  });
});
