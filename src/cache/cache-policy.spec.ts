import type { CacheEntry } from './cache-entry';
import {
  decideStore,
  notModified,
  parseAge,
  parseVary,
  requestPolicy,
  type StoreContext,
  usability,
} from './cache-policy';

const T0 = Date.parse('2026-01-01T00:00:00Z');

function ctx(headers: string[], over: Partial<StoreContext> = {}): StoreContext {
  return {
    status: 200,
    headers,
    authenticated: false,
    requestNoStore: false,
    defaultTtlMs: 300_000,
    // The operator opted in (explicit CACHE_TTL); the default rule has its own cases below.
    ttlOptIn: true,
    allowSetCookie: false,
    requestTime: T0,
    responseTime: T0,
    ...over,
  };
}

function entryOf(headers: string[], over: Partial<StoreContext> = {}): CacheEntry {
  const v = decideStore(ctx(headers, over));
  if (!v.store) {
    throw new Error(`not storable: ${v.reason}`);
  }
  return { ...v.entry, headers, body: Buffer.alloc(0), variant: '', compressible: false };
}

describe('decideStore (RFC 9111 §3)', () => {
  it.each([
    [['cache-control', 'no-store'], 'no-store'],
    [['cache-control', 'private, max-age=60'], 'private'],
    [['cache-control', 'max-age=60', 'vary', 'Accept, *'], 'vary *'],
    [['cache-control', 'max-age=60', 'set-cookie', 'a=1'], 'set-cookie'],
  ])('%p is not stored (%s)', (headers, reason) => {
    expect(decideStore(ctx(headers))).toEqual({ store: false, reason });
  });

  it('206, 304 and non-heuristic statuses without explicit freshness are not stored', () => {
    expect(decideStore(ctx([], { status: 206 })).store).toBe(false);
    expect(decideStore(ctx([], { status: 304 })).store).toBe(false);
    expect(decideStore(ctx([], { status: 302 })).store).toBe(false);
    expect(decideStore(ctx([], { status: 500 })).store).toBe(false);
    expect(decideStore(ctx(['cache-control', 'max-age=10'], { status: 302 })).store).toBe(true);
  });

  it('freshness: s-maxage > max-age > Expires > default TTL', () => {
    expect(entryOf(['cache-control', 'max-age=10, s-maxage=20']).freshnessMs).toBe(20_000);
    expect(entryOf(['cache-control', 'max-age=10']).freshnessMs).toBe(10_000);
    const date = new Date(T0).toUTCString();
    const expires = new Date(T0 + 30_000).toUTCString();
    expect(entryOf(['date', date, 'expires', expires]).freshnessMs).toBe(30_000);
    expect(entryOf(['etag', '"x"', 'expires', 'garbage']).freshnessMs).toBe(0);
    expect(entryOf([]).freshnessMs).toBe(300_000);
  });

  it('Authorization: stored only with public, s-maxage or must-revalidate (§3.5)', () => {
    expect(decideStore(ctx(['cache-control', 'max-age=60'], { authenticated: true })).store).toBe(
      false,
    );
    for (const cc of ['public, max-age=60', 's-maxage=60', 'must-revalidate, max-age=60']) {
      expect(decideStore(ctx(['cache-control', cc], { authenticated: true })).store).toBe(true);
    }
  });

  it('Set-Cookie stored when the route allows it', () => {
    expect(decideStore(ctx(['set-cookie', 'a=1'], { allowSetCookie: true })).store).toBe(true);
  });

  it('age: corrected initial age from Age, Date and the response delay (§4.2.3)', () => {
    const e = entryOf(['cache-control', 'max-age=100'], {
      age: '20',
      requestTime: T0 - 2_000,
      responseTime: T0,
    });
    expect(e.initialAgeMs).toBe(22_000);
    const skewed = entryOf([
      'cache-control',
      'max-age=100',
      'date',
      new Date(T0 - 50_000).toUTCString(),
    ]);
    expect(skewed.initialAgeMs).toBe(50_000);
  });

  it('must-revalidate and s-maxage disable stale serving; no-cache means revalidate always', () => {
    const strict = entryOf([
      'cache-control',
      'max-age=1, must-revalidate, stale-if-error=60, stale-while-revalidate=60',
    ]);
    expect(strict.staleIfErrorMs).toBe(0);
    expect(strict.staleWhileRevalidateMs).toBe(0);
    const lax = entryOf(['cache-control', 'max-age=1, stale-if-error=60']);
    expect(lax.staleIfErrorMs).toBe(60_000);
    const nc = entryOf(['cache-control', 'no-cache', 'etag', '"a"']);
    expect(nc.noCache).toBe(true);
    expect(usability(nc, requestPolicy(undefined), 0)).toBe('revalidate');
  });

  it('a response stale on arrival without validators is not worth storing', () => {
    expect(decideStore(ctx(['cache-control', 'max-age=0'])).store).toBe(false);
    expect(decideStore(ctx(['cache-control', 'max-age=0', 'etag', '"v"'])).store).toBe(true);
  });
});

describe('decideStore without an explicit CACHE_TTL or route ttl (the default)', () => {
  const asks = (headers: string[], over: Partial<StoreContext> = {}) =>
    decideStore(ctx(headers, { ttlOptIn: false, ...over }));

  it('does not store a response that states nothing about its freshness', () => {
    expect(asks([])).toEqual({ store: false, reason: 'no freshness' });
    expect(asks(['content-type', 'application/json'])).toEqual({
      store: false,
      reason: 'no freshness',
    });
    // An ETag alone is no basis for heuristic freshness (RFC 9111 §4.2.2 uses Last-Modified).
    expect(asks(['etag', '"v1"'])).toEqual({ store: false, reason: 'no freshness' });
    expect(asks([], { status: 404 })).toEqual({ store: false, reason: 'no freshness' });
    expect(asks(['cache-control', 'stale-while-revalidate=60'])).toEqual({
      store: false,
      reason: 'no freshness',
    });
  });

  it('stores what states its own freshness, as with the opt-in', () => {
    const date = new Date(T0).toUTCString();
    const expires = new Date(T0 + 30_000).toUTCString();
    const cases: [string[], number][] = [
      [['cache-control', 'max-age=10'], 10_000],
      [['cache-control', 's-maxage=20'], 20_000],
      [['date', date, 'expires', expires], 30_000],
    ];
    for (const [headers, freshness] of cases) {
      const v = asks(headers);
      expect(v.store && v.entry.freshnessMs).toBe(freshness);
    }
  });

  it('gives a public response the configured TTL', () => {
    const v = asks(['cache-control', 'public']);
    expect(v.store && v.entry.freshnessMs).toBe(300_000);
  });

  it('gives a Last-Modified response 10 % of its age, at most the configured TTL', () => {
    const date = new Date(T0).toUTCString();
    const tenMinutesAgo = new Date(T0 - 600_000).toUTCString();
    const v = asks(['date', date, 'last-modified', tenMinutesAgo]);
    expect(v.store && v.entry.freshnessMs).toBe(60_000);
    const lastYear = new Date(T0 - 365 * 86_400_000).toUTCString();
    const old = asks(['date', date, 'last-modified', lastYear]);
    expect(old.store && old.entry.freshnessMs).toBe(300_000);
  });

  it('stores a no-cache response with a validator, to revalidate it on every use', () => {
    const v = asks(['cache-control', 'no-cache', 'etag', '"a"']);
    expect(v.store && v.entry.freshnessMs).toBe(0);
    expect(v.store && v.entry.noCache).toBe(true);
  });

  it('stores everything cacheable for the TTL once the operator opted in', () => {
    const v = asks([], { ttlOptIn: true, defaultTtlMs: 60_000 });
    expect(v.store && v.entry.freshnessMs).toBe(60_000);
  });
});

describe('requestPolicy and usability', () => {
  const e = entryOf(['cache-control', 'max-age=60, stale-while-revalidate=30']);
  it('fresh, stale-while-revalidate, then revalidate', () => {
    const p = requestPolicy(undefined);
    expect(usability(e, p, 10_000)).toBe('fresh');
    expect(usability(e, p, 70_000)).toBe('stale-while-revalidate');
    expect(usability(e, p, 100_000)).toBe('revalidate');
  });
  it('a request never forces a fresh entry to be revalidated (no-cache, max-age, min-fresh)', () => {
    for (const cc of [
      'no-cache',
      'max-age=0',
      'max-age=5',
      'min-fresh=55',
      'no-cache, max-age=0',
    ]) {
      expect(usability(e, requestPolicy(cc), 10_000)).toBe('fresh');
    }
    expect(usability(e, requestPolicy(undefined), 10_000)).toBe('fresh');
    expect(usability(e, requestPolicy('max-stale=100'), 90_000)).toBe('fresh');
    expect(requestPolicy('no-store, only-if-cached')).toMatchObject({
      noStore: true,
      onlyIfCached: true,
    });
  });
});

describe('parseVary and notModified', () => {
  it('normalises Vary names; * wins', () => {
    expect(parseVary('Accept-Language, accept-encoding,  Origin')).toEqual([
      'accept-encoding',
      'accept-language',
      'origin',
    ]);
    expect(parseVary('Origin, *')).toEqual(['*']);
  });
  it('If-None-Match (weak comparison, lists, *) takes precedence over If-Modified-Since', () => {
    const lm = new Date(T0).toUTCString();
    const entry = { etag: '"v1"', lastModified: lm, headers: [] };
    expect(notModified(entry, 'W/"v1"', undefined)).toBe(true);
    expect(notModified(entry, '"x", "v1"', undefined)).toBe(true);
    expect(notModified(entry, '*', undefined)).toBe(true);
    expect(notModified(entry, '"x"', new Date(T0 + 1000).toUTCString())).toBe(false);
    expect(notModified(entry, undefined, new Date(T0 + 1000).toUTCString())).toBe(true);
    expect(notModified(entry, undefined, new Date(T0 - 1000).toUTCString())).toBe(false);
  });
});

describe('Age and Expires parsing (RFC 9111 §5.1, §5.3)', () => {
  it('Age: the first field line, its first member, a non-negative integer or ignored', () => {
    expect(parseAge('7200')).toBe(7200);
    expect(parseAge('7200, 0')).toBe(7200);
    expect(parseAge('0, 7200')).toBe(0);
    expect(parseAge('2147483649')).toBe(2_147_483_648);
    for (const bad of ['-7200', '7200.0', 'abc', '7200;foo=bar', '']) {
      expect(parseAge(bad)).toBe(0);
    }
  });

  it('an Age on the first line makes the entry stale; a later line does not count', () => {
    const cc = ['cache-control', 'max-age=3600'];
    expect(entryOf(cc, { age: '7200' }).initialAgeMs).toBe(7_200_000);
    expect(entryOf(cc, { age: '0' }).initialAgeMs).toBe(0);
    expect(entryOf(cc, { age: '7200.0' }).initialAgeMs).toBe(0);
  });

  it('an Expires in a form RFC 9110 does not define means already expired', () => {
    const date = new Date(T0).toUTCString();
    for (const expires of [
      'Thu, 18 Aug 2050 2:01:18 GMT',
      'Thu, 18-Aug-2050 02:01:18 GMT',
      'Thu, 18  Aug  2050 02:01:18 GMT',
      'Thu 18 Aug 2050 02:01:18 GMT',
      'Thu, 18 Aug 2050 02:01:18 UTC',
    ]) {
      expect(entryOf(['date', date, 'expires', expires, 'etag', '"e"']).freshnessMs).toBe(0);
    }
    expect(
      entryOf(['date', date, 'expires', 'Thursday, 18-Aug-50 02:01:18 GMT']).freshnessMs,
    ).toBeGreaterThan(0);
    expect(
      entryOf(['date', date, 'expires', 'Thu Aug  8 02:01:18 2050']).freshnessMs,
    ).toBeGreaterThan(0);
  });
});

describe('targeted cache control (RFC 9213 §2.1) and must-understand (RFC 9111 §5.2.2.3)', () => {
  const targeted = ['gateway-cache-control', 'cdn-cache-control'];
  const t = (headers: string[]) => decideStore(ctx(headers, { targeted }));

  it('CDN-Cache-Control wins over Cache-Control, longer or shorter', () => {
    const long = t(['cache-control', 'max-age=1', 'cdn-cache-control', 'max-age=3600']);
    expect(long.store && long.entry.freshnessMs).toBe(3_600_000);
    const short = t(['cache-control', 'max-age=3600', 'cdn-cache-control', 'max-age=1']);
    expect(short.store && short.entry.freshnessMs).toBe(1000);
  });

  it('the gateway field wins over CDN-Cache-Control', () => {
    const v = t([
      'cdn-cache-control',
      'max-age=10',
      'gateway-cache-control',
      'max-age=20',
      'cache-control',
      'no-store',
    ]);
    expect(v.store && v.entry.freshnessMs).toBe(20_000);
  });

  it('no-store, private and no-cache in the targeted field apply; in Cache-Control they do not', () => {
    expect(t(['cache-control', 'max-age=60', 'cdn-cache-control', 'no-store'])).toEqual({
      store: false,
      reason: 'no-store',
    });
    expect(t(['cache-control', 'max-age=60', 'cdn-cache-control', 'private']).store).toBe(false);
    const nc = t(['cache-control', 'max-age=60', 'cdn-cache-control', 'no-cache', 'etag', '"e"']);
    expect(nc.store && nc.entry.noCache).toBe(true);
    expect(t(['cache-control', 'no-store', 'cdn-cache-control', 'max-age=60']).store).toBe(true);
  });

  it('with a targeted field, Expires is ignored: max-age=0 and a future Expires is stale', () => {
    const expires = new Date(T0 + 3_600_000).toUTCString();
    const v = t(['cdn-cache-control', 'max-age=0', 'expires', expires, 'etag', '"e"']);
    expect(v.store && v.entry.freshnessMs).toBe(0);
  });

  it('an invalid targeted field is ignored: Cache-Control decides', () => {
    expect(
      t(['cdn-cache-control', 'max-age=10000, &&&&&', 'cache-control', 'no-store']).store,
    ).toBe(false);
  });

  it('must-understand lets a known status be stored despite no-store, and no other', () => {
    expect(decideStore(ctx(['cache-control', 'max-age=60, no-store, must-understand'])).store).toBe(
      true,
    );
    expect(
      decideStore(ctx(['cache-control', 'max-age=60, no-store, must-understand'], { status: 599 })),
    ).toEqual({ store: false, reason: 'must-understand' });
  });
});
