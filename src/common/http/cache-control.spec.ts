import { parseCacheControl } from './cache-control';

describe('parseCacheControl', () => {
  it('reads the directives a shared cache acts on, case-insensitively', () => {
    const d = parseCacheControl('Public, MAX-AGE=60, s-maxage=120, must-revalidate, no-transform');
    expect(d).toMatchObject({
      public: true,
      maxAge: 60,
      sMaxAge: 120,
      mustRevalidate: true,
      noTransform: true,
      noStore: false,
    });
  });

  it('joins repeated header lines and keeps the lower of duplicated max-age values', () => {
    expect(parseCacheControl(['max-age=100', 'max-age=10']).maxAge).toBe(10);
  });

  it('an invalid max-age means stale (0), never fresh', () => {
    expect(parseCacheControl('max-age=abc').maxAge).toBe(0);
    expect(parseCacheControl('max-age=-5').maxAge).toBe(0);
    expect(parseCacheControl('max-age="30"').maxAge).toBe(30);
  });

  it('commas inside quoted arguments do not split directives', () => {
    const d = parseCacheControl('no-cache="set-cookie, x-foo", max-age=5');
    expect(d.noCache).toBe(true);
    expect(d.maxAge).toBe(5);
  });

  it('RFC 5861 and request directives', () => {
    const d = parseCacheControl(
      'stale-while-revalidate=30, stale-if-error=600, max-stale, min-fresh=5',
    );
    expect(d.staleWhileRevalidate).toBe(30);
    expect(d.staleIfError).toBe(600);
    expect(d.maxStale).toBe(Infinity);
    expect(d.minFresh).toBe(5);
  });

  it('huge values saturate instead of overflowing', () => {
    expect(parseCacheControl('max-age=99999999999999999999').maxAge).toBe(2_147_483_648);
  });

  it('empty or absent header: nothing set', () => {
    expect(parseCacheControl(undefined).noStore).toBe(false);
    expect(parseCacheControl(undefined).maxAge).toBeUndefined();
    expect(parseCacheControl('')).toMatchObject({ noCache: false });
  });
});
