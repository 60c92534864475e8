import { parseCacheControl, parseTargetedCacheControl } from './cache-control';

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

describe('parseTargetedCacheControl (RFC 9213 §2.2)', () => {
  it('reads a Structured Field Dictionary', () => {
    const d = parseTargetedCacheControl('max-age=3600, no-cache="set-cookie", foobar;x=1')!;
    expect(d.maxAge).toBe(3600);
    expect(d.noCache).toBe(true);
    expect(parseTargetedCacheControl(['max-age=60', 'private'])).toMatchObject({
      maxAge: 60,
      private: true,
    });
    expect(parseTargetedCacheControl('no-store, must-understand')).toMatchObject({
      noStore: true,
      mustUnderstand: true,
    });
  });

  it.each([
    ['a syntax error', 'max-age=10000, &&&&&'],
    ['a freshness value of the wrong type', 'max-age="10000"'],
    ['a negative freshness value', 'max-age=-1'],
    ['a decimal freshness value', 'max-age=1.5'],
    ['a space before =', 'max-age =100'],
    ['a space after =', 'max-age= 100'],
    ['an upper-case key', 'Max-Age=100'],
    ['a trailing comma', 'max-age=100,'],
    ['nothing', '  '],
  ])('ignores the whole field with %s', (_what, value) => {
    expect(parseTargetedCacheControl(value)).toBeUndefined();
  });
});
