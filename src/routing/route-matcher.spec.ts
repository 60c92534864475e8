import { RouteMatcher, RouteMatcherBuilder } from './route-matcher';
import { normalizeHost } from '../common/http/normalize-host';

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

describe('RouteMatcher.claimsHost', () => {
  it('should tell the hosts a host route claims, exactly or by wildcard, after patches too', () => {
    const exact = { host: 'Billing.example.com', prefix: '/', value: 'b' };
    const table = new RouteMatcher<string>([
      { host: '', prefix: '/', value: 'any' },
      { host: normalizeHost(exact.host), prefix: '/', value: 'b' },
      { host: '*.shop.test', prefix: '/x', value: 'w' },
    ]);

    expect(
      ['billing.example.com:8443', 'BILLING.example.com.', 'a.shop.test', 'a.b.shop.test'].map(
        (h) => table.claimsHost(h),
      ),
    ).toEqual([true, true, true, true]);
    expect(
      ['shop.test', 'example.com', 'other.test', undefined].map((h) => table.claimsHost(h)),
    ).toEqual([false, false, false, false]);
    expect(
      new RouteMatcher<string>([{ host: '', prefix: '/', value: 'any' }]).claimsHost('x'),
    ).toBe(false);
    // A patched table drops a host whose last route went.
    const patched = table.withChanges(
      [{ host: 'billing.example.com', prefix: '/', value: 'b' }],
      [],
    );
    expect(patched?.claimsHost('billing.example.com')).toBe(false);
  });
});

describe('RouteMatcher trie', () => {
  it('should prefer the longest prefix whatever the declaration order', () => {
    const t = new RouteMatcher<string>([
      { host: '', prefix: '/a', value: 'a' },
      { host: '', prefix: '/a/b/c', value: 'abc' },
      { host: '', prefix: '/a/b', value: 'ab' },
      { host: '', prefix: '/a/b/', value: 'ab-slash' },
    ]);
    expect(t.match('h', '/a/b/c/d')).toEqual({ value: 'abc', prefix: '/a/b/c', rest: '/d' });
    expect(t.match('h', '/a/b/x')).toEqual({ value: 'ab-slash', prefix: '/a/b/', rest: '/x' });
    expect(t.match('h', '/a/b/')).toEqual({ value: 'ab-slash', prefix: '/a/b/', rest: '/' });
    expect(t.match('h', '/a/b')).toEqual({ value: 'ab', prefix: '/a/b', rest: '/' });
    expect(t.match('h', '/a/bc')).toEqual({ value: 'a', prefix: '/a', rest: '/bc' });
    expect(t.match('h', '/a/b/cd')).toEqual({ value: 'ab-slash', prefix: '/a/b/', rest: '/cd' });
    expect(t.match('h', '/ab')).toBeUndefined();
  });

  it('should keep the first of two routes with the same prefix (`` and `/` are the same)', () => {
    const t = new RouteMatcher<string>([
      { host: '', prefix: '', value: 'empty' },
      { host: '', prefix: '/', value: 'slash' },
      { host: '', prefix: '/x', value: 'x1' },
      { host: '', prefix: '/x', value: 'x2' },
    ]);
    expect(t.match('h', '/y')?.value).toBe('empty');
    expect(t.match('h', '/x/1')?.value).toBe('x1');
  });

  it('should step past a segment with one child or with many alike', () => {
    // `/one` has a single child (kept inline), `/many` several (kept in a Map).
    const t = new RouteMatcher<string>([
      { host: '', prefix: '/one/v1', value: 'one-v1' },
      { host: '', prefix: '/many/v1', value: 'many-v1' },
      { host: '', prefix: '/many/v2', value: 'many-v2' },
      { host: '', prefix: '/many/v3', value: 'many-v3' },
    ]);
    for (const root of ['one', 'many']) {
      expect(t.match('h', `/${root}/v1`)?.value).toBe(`${root}-v1`);
      expect(t.match('h', `/${root}/v1/x`)?.rest).toBe('/x');
      expect(t.match('h', `/${root}/v11`)).toBeUndefined();
      expect(t.match('h', `/${root}/v`)).toBeUndefined();
      expect(t.match('h', `/${root}`)).toBeUndefined();
      expect(t.match('h', `/${root}/`)).toBeUndefined();
    }
    expect(t.match('h', '/many/v3/')?.value).toBe('many-v3');
  });

  it('should try wildcard suffixes longest first and fall through when their prefixes miss', () => {
    const t = new RouteMatcher<string>([
      { host: '*.example.com', prefix: '/', value: 'wild' },
      { host: '*.eu.example.com', prefix: '/eu-only', value: 'wild-eu' },
      { host: 'x.eu.example.com', prefix: '/exact-only', value: 'exact' },
    ]);
    expect(t.match('x.eu.example.com', '/exact-only/1')?.value).toBe('exact');
    expect(t.match('x.eu.example.com', '/eu-only')?.value).toBe('wild-eu');
    expect(t.match('x.eu.example.com', '/other')?.value).toBe('wild');
    expect(t.match('eu.example.com', '/eu-only')?.value).toBe('wild');
    expect(t.match('.example.com', '/')).toBeUndefined();
    expect(t.match('example.com', '/')).toBeUndefined();
  });

  it('should build the same matcher one route at a time, and refuse routes after build()', () => {
    const routes = [
      { host: '', prefix: '/a', value: 'a' },
      { host: '*.x.test', prefix: '/', value: 'wild' },
      { host: 'h.x.test', prefix: '/a/b/', value: 'exact' },
      { host: '', prefix: '/a', value: 'a-again' },
    ];
    const builder = new RouteMatcherBuilder<string>();
    routes.forEach((r) => builder.add(r));
    const built = builder.build();
    const whole = new RouteMatcher(routes);
    for (const [host, path] of [
      ['h.x.test', '/a/b/c'],
      ['h.x.test', '/a/b'],
      ['y.x.test', '/a'],
      ['other', '/a/z'],
    ]) {
      expect(built.match(host, path)).toEqual(whole.match(host, path));
    }
    expect(() => builder.add({ host: '', prefix: '/late', value: 'late' })).toThrow(/after build/);
    expect(built.match('other', '/late')).toBeUndefined();
  });

  it('should scale: 20,000 two-segment prefixes and 20,000 hosts resolve like one', () => {
    const routes: { host: string; prefix: string; value: string }[] = [];
    for (let i = 0; i < 20_000; i++) {
      routes.push({ host: '', prefix: `/svc${i}/v4`, value: `svc${i}` });
      routes.push({ host: `api-${i}.example.test`, prefix: '/', value: `api${i}` });
    }
    routes.push({ host: '', prefix: '/bench', value: 'bench' });
    const t = new RouteMatcher(routes);
    expect(t.match('x', '/bench/item')).toEqual({
      value: 'bench',
      prefix: '/bench',
      rest: '/item',
    });
    expect(t.match('x', '/svc19999/v4/a')?.value).toBe('svc19999');
    expect(t.match('x', '/svc19999/v5')).toBeUndefined();
    expect(t.match('api-7.example.test', '/svc1/v4')?.value).toBe('api7');
  });
});

/**
 * The matcher before the trie, kept as the reference: every route of the host bucket in
 * prefix-length order (stable, so declaration order among equal lengths), first match wins.
 */
function referenceMatch(
  routes: readonly { host: string; prefix: string; value: string }[],
  rawHost: string | undefined,
  path: string,
): { value: string; prefix: string; rest: string } | undefined {
  const host = normalizeHost(rawHost);
  const inBucket = (pred: (h: string) => boolean) =>
    routes
      .filter((r) => pred(r.host))
      .map((r) => ({ ...r, prefix: r.prefix === '' ? '/' : r.prefix }))
      .sort((a, b) => b.prefix.length - a.prefix.length);
  const scan = (entries: { prefix: string; value: string }[]) => {
    for (const e of entries) {
      if (e.prefix === '/') {
        return { value: e.value, prefix: e.prefix, rest: path };
      }
      if (!path.startsWith(e.prefix)) {
        continue;
      }
      const n = e.prefix.length;
      if (path.length === n) {
        return { value: e.value, prefix: e.prefix, rest: '/' };
      }
      if (e.prefix.endsWith('/')) {
        return { value: e.value, prefix: e.prefix, rest: path.slice(n - 1) };
      }
      if (path[n] === '/') {
        return { value: e.value, prefix: e.prefix, rest: path.slice(n) };
      }
    }
    return undefined;
  };
  const exact = scan(inBucket((h) => h === host && h !== '' && h !== '*' && !h.startsWith('*.')));
  if (exact) {
    return exact;
  }
  const suffixes = [
    ...new Set(routes.filter((r) => r.host.startsWith('*.')).map((r) => r.host.slice(1))),
  ].sort((a, b) => b.length - a.length);
  for (const suffix of suffixes) {
    if (host.length > suffix.length && host.endsWith(suffix)) {
      const hit = scan(inBucket((h) => h === `*${suffix}`));
      if (hit) {
        return hit;
      }
    }
  }
  return scan(inBucket((h) => h === '' || h === '*'));
}

describe('RouteMatcher against the reference matcher', () => {
  // A fixed-seed generator (mulberry32): a failure names its seed and reproduces exactly.
  function rng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  // Few distinct pieces, so generated prefixes and paths share segments, prefixes of segments
  // (`v1`/`v11`) and empty segments: the cases a trie can get wrong.
  const SEGMENTS = ['', 'a', 'ab', 'api', 'v1', 'v11', 'v2', 'x', 'users', 'a.b', '-'];
  const HOSTS = [
    '',
    '*',
    'a.test',
    'b.test',
    'x.a.test',
    '*.a.test',
    '*.x.a.test',
    '*.test',
    '::1',
    'example.com',
  ];
  const REQUEST_HOSTS = [
    undefined,
    '',
    'a.test',
    'A.TEST:8080',
    'b.test.',
    'x.a.test',
    'y.x.a.test',
    'x.x.a.test',
    'test',
    '.test',
    'other',
    '[::1]:9',
    'example.com',
    'www.example.com',
  ];

  function pathOf(next: () => number, maxSegments: number): string {
    const n = Math.floor(next() * (maxSegments + 1));
    let p = '';
    for (let i = 0; i < n; i++) {
      p += '/' + SEGMENTS[Math.floor(next() * SEGMENTS.length)];
    }
    return p;
  }

  it('should agree on 400 random tables of up to 40 routes, 250 requests each', () => {
    let compared = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const next = rng(seed);
      const count = 1 + Math.floor(next() * 40);
      const routes = Array.from({ length: count }, (_, i) => {
        let prefix = pathOf(next, 3);
        if (next() < 0.2) {
          prefix += '/';
        }
        if (prefix === '' && next() < 0.5) {
          prefix = '/';
        }
        return { host: HOSTS[Math.floor(next() * HOSTS.length)], prefix, value: `r${i}` };
      });
      const matcher = new RouteMatcher(routes);
      for (let i = 0; i < 250; i++) {
        const host = REQUEST_HOSTS[Math.floor(next() * REQUEST_HOSTS.length)];
        let path = pathOf(next, 5);
        if (path === '' || next() < 0.1) {
          path += '/';
        }
        const want = referenceMatch(routes, host, path);
        const got = matcher.match(host, path);
        if (JSON.stringify(got) !== JSON.stringify(want)) {
          throw new Error(
            `seed ${seed}: host ${JSON.stringify(host)} path ${JSON.stringify(path)}: ` +
              `got ${JSON.stringify(got)}, reference ${JSON.stringify(want)}; routes ` +
              JSON.stringify(routes),
          );
        }
        compared++;
      }
    }
    expect(compared).toBe(400 * 250);
  });

  it('should change a matcher by a few routes like a rebuild, leaving the original as it was', () => {
    let compared = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const next = rng(seed);
      type R = { host: string; prefix: string; value: string };
      // Unique host+prefix, as the config makes them; a duplicate is the rebuild case below.
      const unique = (routes: R[]) => {
        const seen = new Set<string>();
        return routes.filter((r) => {
          const key = `${r.host === '*' ? '' : r.host}\n${r.prefix === '' ? '/' : r.prefix}`;
          return !seen.has(key) && seen.add(key);
        });
      };
      const gen = (i: number, tag: string): R => ({
        host: HOSTS[Math.floor(next() * HOSTS.length)],
        prefix: pathOf(next, 3) + (next() < 0.2 ? '/' : ''),
        value: `${tag}${i}`,
      });
      const before = unique(
        Array.from({ length: 1 + Math.floor(next() * 30) }, (_, i) => gen(i, 'r')),
      );
      const removed = before.filter(() => next() < 0.3);
      const kept = before.filter((r) => !removed.includes(r));
      const added = unique([
        ...kept,
        ...Array.from({ length: Math.floor(next() * 6) }, (_, i) => gen(i, 'n')),
      ]).slice(kept.length);
      const after = [...kept, ...added];
      const original = new RouteMatcher(before);
      const changed = original.withChanges(removed, added);
      expect(changed).toBeDefined();
      const rebuilt = new RouteMatcher(after);
      const reference = new RouteMatcher(before);
      for (let i = 0; i < 100; i++) {
        const host = REQUEST_HOSTS[Math.floor(next() * REQUEST_HOSTS.length)];
        const path = pathOf(next, 5) || '/';
        expect(changed!.match(host, path)).toEqual(rebuilt.match(host, path));
        expect(original.match(host, path)).toEqual(reference.match(host, path));
        compared++;
      }
    }
    expect(compared).toBe(200 * 100);
  });

  it('should refuse a change that involves a duplicate prefix, for a rebuild to decide', () => {
    const a = { host: '', prefix: '/a', value: 'a' };
    const t = new RouteMatcher([a, { host: 'h', prefix: '/x', value: 'x' }]);
    expect(t.withChanges([], [{ host: '', prefix: '/a', value: 'a2' }])).toBeUndefined();
    expect(t.withChanges([{ host: '', prefix: '/a', value: 'other' }], [])).toBeUndefined();
    expect(t.withChanges([{ host: 'h', prefix: '/nope', value: 'x' }], [])).toBeUndefined();
    // `*` and `` are both any host: removing the first would uncover the second.
    const shadowing = new RouteMatcher([
      { host: '', prefix: '/', value: 'first' },
      { host: '*', prefix: '', value: 'second' },
    ]);
    expect(shadowing.withChanges([{ host: '', prefix: '/', value: 'first' }], [])).toBeUndefined();
    const moved = t.withChanges([a], [{ ...a, prefix: '/b' }])!;
    expect(moved.match('z', '/a')).toBeUndefined();
    expect(moved.match('z', '/b/1')?.value).toBe('a');
    expect(t.match('z', '/a')?.value).toBe('a');
    // The last route of a host bucket gone: the bucket goes, and the host falls through.
    const gone = t.withChanges([{ host: 'h', prefix: '/x', value: 'x' }], [])!;
    expect(gone.match('h', '/x')).toBeUndefined();
    expect(gone.match('h', '/a')?.value).toBe('a');
  });
});
