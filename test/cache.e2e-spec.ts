import { createHash } from 'node:crypto';
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { HttpCacheService } from '../src/cache/http-cache.service';
import { startGateway, testConfig, type TestGateway } from './fixtures/gateway';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { send, waitFor } from './fixtures/http';
import { spawnGateway } from './fixtures/process';
import { testAuthConfig } from './fixtures/jwt';
import { binaryBody, cacheableOctets, startUpstream, type TestUpstream } from './fixtures/upstream';

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

/** A programmable upstream: tests swap `handler` per case; every request is recorded. */
let handler: Handler;
let upstream: TestUpstream;
let gw: TestGateway;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let n = 0;
/** A fresh path per test, so cases never see each other's entries. */
const fresh = () => `/c/${++n}`;
const hits = (path: string) => upstream.requests.filter((r) => r.url === path).length;

beforeAll(async () => {
  upstream = await startUpstream((req, res, body) => handler(req, res, body));
  gw = await startGateway(
    testConfig(
      [{ prefix: '/', upstreams: [upstream.url], cache: { enabled: true, allowSetCookie: false } }],
      {
        cache: {
          ...testConfig([]).cache,
          enabled: true,
          compression: false,
          ttlMs: 60_000,
          maxObjectBytes: 64 * 1024,
        },
      },
    ),
  );
});

afterAll(async () => {
  await gw.close();
  await upstream.close();
});

function reply(
  headers: Record<string, string | string[]>,
  body = 'payload',
  status = 200,
): Handler {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'text/plain', ...headers });
    res.end(body);
  };
}

describe('response cache (RFC 9111, memory store)', () => {
  it('MISS then HIT with Age, X-Cache and Cache-Status; one upstream call', async () => {
    handler = reply({ 'cache-control': 'max-age=60' }, 'hello');
    const p = fresh();
    const a = await send(gw.url, p);
    expect(a.headers['x-cache']).toBe('MISS');
    expect(a.headers['cache-status']).toContain('fwd=uri-miss');
    expect(a.headers['cache-status']).toContain('stored');
    const b = await send(gw.url, p);
    expect(b.status).toBe(200);
    expect(b.text).toBe('hello');
    expect(b.headers['x-cache']).toBe('HIT');
    expect(b.headers['cache-status']).toMatch(/nest-edge-gateway; hit; ttl=\d+/);
    expect(b.headers.age).toMatch(/^\d+$/);
    expect(b.headers['x-request-id']).toBeDefined();
    expect(b.headers['x-request-id']).not.toBe(a.headers['x-request-id']);
    expect(hits(p)).toBe(1);
  });

  it('Age grows on hits and counts the upstream Age', async () => {
    handler = reply({ 'cache-control': 'max-age=100', age: '30' });
    const p = fresh();
    await send(gw.url, p);
    const b = await send(gw.url, p);
    expect(Number(b.headers.age)).toBeGreaterThanOrEqual(30);
    expect(Number(b.headers.age)).toBeLessThan(40);
  });

  it('HEAD is answered from the GET entry (no body, same headers)', async () => {
    handler = reply({ 'cache-control': 'max-age=60', 'content-length': '6' }, 'abcdef');
    const p = fresh();
    await send(gw.url, p);
    const h = await send(gw.url, p, { method: 'HEAD' });
    expect(h.headers['x-cache']).toBe('HIT');
    expect(h.headers['content-length']).toBe('6');
    expect(h.body.length).toBe(0);
    expect(hits(p)).toBe(1);
  });

  it('stale after max-age: MISS again', async () => {
    handler = reply({ 'cache-control': 'max-age=1' });
    const p = fresh();
    await send(gw.url, p);
    expect((await send(gw.url, p)).headers['x-cache']).toBe('HIT');
    await sleep(2100);
    expect((await send(gw.url, p)).headers['x-cache']).toBe('MISS');
    expect(hits(p)).toBe(2);
  });

  it('no-store, private and Vary: * are never stored', async () => {
    const cases: Record<string, string>[] = [
      { 'cache-control': 'no-store' },
      { 'cache-control': 'private, max-age=60' },
      { 'cache-control': 'max-age=60', vary: '*' },
    ];
    for (const headers of cases) {
      handler = reply(headers);
      const p = fresh();
      await send(gw.url, p);
      const b = await send(gw.url, p);
      expect(b.headers['x-cache']).toBe('MISS');
      expect(b.headers['cache-status']).not.toContain('stored');
      expect(hits(p)).toBe(2);
    }
  });

  it('s-maxage wins over max-age for the shared cache', async () => {
    handler = reply({ 'cache-control': 'max-age=0, s-maxage=60' });
    const p = fresh();
    await send(gw.url, p);
    expect((await send(gw.url, p)).headers['x-cache']).toBe('HIT');
    handler = reply({ 'cache-control': 'max-age=60, s-maxage=0' });
    const q = fresh();
    await send(gw.url, q);
    expect((await send(gw.url, q)).headers['x-cache']).toBe('MISS');
  });

  it('Expires gives freshness; an invalid Expires means already stale', async () => {
    handler = (_req, res) => {
      res.writeHead(200, {
        date: new Date().toUTCString(),
        expires: new Date(Date.now() + 60_000).toUTCString(),
      });
      res.end('x');
    };
    const p = fresh();
    await send(gw.url, p);
    expect((await send(gw.url, p)).headers['x-cache']).toBe('HIT');
    handler = reply({ expires: '0' });
    const q = fresh();
    await send(gw.url, q);
    expect((await send(gw.url, q)).headers['x-cache']).toBe('MISS');
  });

  it('a response that states no freshness is not stored without an explicit CACHE_TTL', async () => {
    // A typical JSON API: no Cache-Control, the session in a custom header.
    handler = (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ for: req.headers['x-session'] }));
    };
    const p = fresh();
    const alice = await send(gw.url, p, { headers: { 'x-session': 'alice' } });
    const bob = await send(gw.url, p, { headers: { 'x-session': 'bob' } });
    expect([alice.json().for, bob.json().for]).toEqual(['alice', 'bob']);
    expect([alice.headers['x-cache'], bob.headers['x-cache']]).toEqual(['MISS', 'MISS']);
    expect(bob.headers['cache-status']).not.toContain('stored');
    expect(hits(p)).toBe(2);
  });

  it('Last-Modified gives heuristic freshness (10 % of its age); public gets the TTL; 500 is not stored', async () => {
    const modified = new Date(Date.now() - 3_600_000).toUTCString();
    handler = reply({ 'last-modified': modified });
    const p = fresh();
    await send(gw.url, p);
    const hit = await send(gw.url, p);
    expect(hit.headers['x-cache']).toBe('HIT');
    // 10 % of an hour is 6 minutes, capped by the TTL of this gateway (60 s).
    expect(hit.headers['cache-status']).toMatch(/ttl=(59|60)\b/);
    handler = reply({ 'cache-control': 'public' });
    const q = fresh();
    await send(gw.url, q);
    expect((await send(gw.url, q)).headers['x-cache']).toBe('HIT');
    handler = reply({ 'cache-control': 'public' }, 'boom', 500);
    const r = fresh();
    await send(gw.url, r);
    expect((await send(gw.url, r)).headers['x-cache']).toBe('HIT');
    handler = reply({}, 'boom', 500);
    const t = fresh();
    await send(gw.url, t);
    expect((await send(gw.url, t)).headers['x-cache']).toBe('MISS');
  });

  it('Vary: a variant per header value', async () => {
    handler = (req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=60', vary: 'Accept-Language' });
      res.end(`lang=${req.headers['accept-language'] ?? 'none'}`);
    };
    const p = fresh();
    const en1 = await send(gw.url, p, { headers: { 'accept-language': 'en' } });
    const fr1 = await send(gw.url, p, { headers: { 'accept-language': 'fr' } });
    const en2 = await send(gw.url, p, { headers: { 'accept-language': 'en' } });
    const fr2 = await send(gw.url, p, { headers: { 'accept-language': 'fr' } });
    expect([en1.text, fr1.text, en2.text, fr2.text]).toEqual([
      'lang=en',
      'lang=fr',
      'lang=en',
      'lang=fr',
    ]);
    expect([
      en1.headers['x-cache'],
      fr1.headers['x-cache'],
      en2.headers['x-cache'],
      fr2.headers['x-cache'],
    ]).toEqual(['MISS', 'MISS', 'HIT', 'HIT']);
    expect(hits(p)).toBe(2);
  });

  it("Authorization: one user never gets another user's response; public ones are shared", async () => {
    handler = (req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=60' });
      res.end(`secret of ${req.headers.authorization}`);
    };
    const p = fresh();
    const alice = await send(gw.url, p, { headers: { authorization: 'Bearer alice' } });
    const bob = await send(gw.url, p, { headers: { authorization: 'Bearer bob' } });
    expect(alice.text).toBe('secret of Bearer alice');
    expect(bob.text).toBe('secret of Bearer bob');
    expect(bob.headers['x-cache']).toBe('MISS');
    // An anonymous response stored for anyone is not handed to a credentialed request either.
    handler = reply({ 'cache-control': 'max-age=60' }, 'anon');
    const q = fresh();
    await send(gw.url, q);
    expect(
      (await send(gw.url, q, { headers: { authorization: 'Bearer bob' } })).headers['x-cache'],
    ).toBe('MISS');
    handler = reply({ 'cache-control': 'public, max-age=60' }, 'shared');
    const r = fresh();
    await send(gw.url, r, { headers: { authorization: 'Bearer alice' } });
    const shared = await send(gw.url, r, { headers: { authorization: 'Bearer bob' } });
    expect(shared.headers['x-cache']).toBe('HIT');
  });

  it("Cookie: a session's response without Cache-Control is never served to another session", async () => {
    // What an API framework sends by default: no Cache-Control at all (CACHE_TTL would apply).
    handler = (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`profile of ${req.headers.cookie}`);
    };
    const p = fresh();
    const alice = await send(gw.url, p, { headers: { cookie: 'sid=alice' } });
    const bob = await send(gw.url, p, { headers: { cookie: 'sid=bob' } });
    expect(alice.text).toBe('profile of sid=alice');
    expect(bob.text).toBe('profile of sid=bob');
    expect(bob.headers['x-cache']).toBe('MISS');
    expect(hits(p)).toBe(2);
    // Responses that say they are shareable are shared, as with Authorization.
    handler = reply({ 'cache-control': 'public, max-age=60' }, 'catalogue');
    const q = fresh();
    await send(gw.url, q, { headers: { cookie: 'sid=alice' } });
    expect((await send(gw.url, q, { headers: { cookie: 'sid=bob' } })).headers['x-cache']).toBe(
      'HIT',
    );
  });

  it('Set-Cookie responses are not stored (route does not allow them)', async () => {
    handler = reply({ 'cache-control': 'max-age=60', 'set-cookie': 'sid=1' });
    const p = fresh();
    await send(gw.url, p);
    expect((await send(gw.url, p)).headers['x-cache']).toBe('MISS');
  });

  it('objects over CACHE_MAX_OBJECT_SIZE are streamed but not stored', async () => {
    handler = reply({ 'cache-control': 'max-age=60' }, 'z'.repeat(100 * 1024));
    const p = fresh();
    const a = await send(gw.url, p);
    expect(a.body.length).toBe(100 * 1024);
    expect((await send(gw.url, p)).headers['x-cache']).toBe('MISS');
    // Chunked (no Content-Length): recording is abandoned past the limit.
    handler = (_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=60' });
      for (let i = 0; i < 10; i++) {
        res.write('y'.repeat(10 * 1024));
      }
      res.end();
    };
    const q = fresh();
    expect((await send(gw.url, q)).body.length).toBe(100 * 1024);
    expect((await send(gw.url, q)).headers['x-cache']).toBe('MISS');
  });

  // 256 bytes: a small body goes out with the head in one write, as a latin1 string; every byte
  // value must survive that. 50,000 bytes: written as the Buffer it is.
  it.each([256, 50_000])('binary bodies of %d bytes round-trip byte-exact', async (size) => {
    const bytes = binaryBody(size);
    handler = cacheableOctets(bytes);
    const p = fresh();
    await send(gw.url, p);
    const b = await send(gw.url, p);
    expect(b.headers['x-cache']).toBe('HIT');
    expect(b.body.equals(bytes)).toBe(true);
  });

  it('revalidates with the stored ETag; a 304 refreshes the stored headers', async () => {
    let version = 'one';
    handler = (req, res) => {
      if (req.headers['if-none-match'] === '"v1"') {
        res.writeHead(304, { etag: '"v1"', 'cache-control': 'max-age=60', 'x-version': version });
        res.end();
        return;
      }
      res.writeHead(200, { etag: '"v1"', 'cache-control': 'max-age=1', 'x-version': version });
      res.end('body-v1');
    };
    const p = fresh();
    await send(gw.url, p);
    await sleep(2100);
    version = 'two';
    const b = await send(gw.url, p);
    expect(b.status).toBe(200);
    expect(b.text).toBe('body-v1');
    expect(b.headers['x-cache']).toBe('HIT');
    expect(b.headers['cache-status']).toContain('fwd-status=304');
    expect(b.headers['x-version']).toBe('two');
    expect(upstream.requests.filter((r) => r.url === p)[1].headers['if-none-match']).toBe('"v1"');
    // Refreshed to max-age=60: fresh now.
    expect((await send(gw.url, p)).headers['x-cache']).toBe('HIT');
    expect(hits(p)).toBe(2);
  });

  it('revalidates with Last-Modified', async () => {
    const lm = new Date(Date.now() - 3_600_000).toUTCString();
    handler = (req, res) => {
      if (req.headers['if-modified-since'] === lm) {
        res.writeHead(304, { 'cache-control': 'max-age=60' });
        res.end();
        return;
      }
      res.writeHead(200, { 'last-modified': lm, 'cache-control': 'no-cache' });
      res.end('lm-body');
    };
    const p = fresh();
    await send(gw.url, p);
    const b = await send(gw.url, p);
    expect(b.text).toBe('lm-body');
    expect(b.headers['x-cache']).toBe('HIT');
    expect(upstream.requests.filter((r) => r.url === p)[1].headers['if-modified-since']).toBe(lm);
  });

  it('client conditionals are answered 304 from the cache', async () => {
    const lm = new Date(Date.now() - 3_600_000).toUTCString();
    handler = reply({ 'cache-control': 'max-age=60', etag: '"abc"', 'last-modified': lm }, 'cond');
    const p = fresh();
    await send(gw.url, p);
    const inm = await send(gw.url, p, { headers: { 'if-none-match': 'W/"abc"' } });
    expect(inm.status).toBe(304);
    expect(inm.headers['x-cache']).toBe('HIT');
    expect(inm.headers.etag).toBe('"abc"');
    const ims = await send(gw.url, p, {
      headers: { 'if-modified-since': new Date().toUTCString() },
    });
    expect(ims.status).toBe(304);
    const other = await send(gw.url, p, { headers: { 'if-none-match': '"zzz"' } });
    expect(other.status).toBe(200);
    expect(other.text).toBe('cond');
    // On a miss the client's conditional is answered from the full upstream response too.
    const q = fresh();
    const first = await send(gw.url, q, { headers: { 'if-none-match': '"abc"' } });
    expect(first.status).toBe(304);
    expect(upstream.requests.find((r) => r.url === q)?.headers['if-none-match']).toBeUndefined();
    expect((await send(gw.url, q)).headers['x-cache']).toBe('HIT');
  });

  it("a client's no-cache / Pragma / max-age=0 never replaces a fresh entry (ignored, as nginx does)", async () => {
    handler = reply({ 'cache-control': 'max-age=60' });
    const p = fresh();
    await send(gw.url, p);
    expect(
      (await send(gw.url, p, { headers: { 'cache-control': 'no-cache' } })).headers['x-cache'],
    ).toBe('HIT');
    expect((await send(gw.url, p, { headers: { pragma: 'no-cache' } })).headers['x-cache']).toBe(
      'HIT',
    );
    expect(
      (await send(gw.url, p, { headers: { 'cache-control': 'max-age=0' } })).headers['x-cache'],
    ).toBe('HIT');
    expect(hits(p)).toBe(1);
  });

  it('a successful POST invalidates the target URI and its same-host Location', async () => {
    handler = (req, res) => {
      if (req.method === 'POST') {
        res.writeHead(201, { location: `/c/${n}-other` });
        res.end();
        return;
      }
      res.writeHead(200, { 'cache-control': 'max-age=60' });
      res.end('v');
    };
    const p = fresh();
    const other = `${p}-other`;
    await send(gw.url, p);
    await send(gw.url, other);
    expect((await send(gw.url, p)).headers['x-cache']).toBe('HIT');
    const post = await send(gw.url, p, { method: 'POST', body: 'x' });
    expect(post.headers['x-cache']).toBe('BYPASS');
    expect((await send(gw.url, p)).headers['x-cache']).toBe('MISS');
    expect((await send(gw.url, other)).headers['x-cache']).toBe('MISS');
  });

  it('a failed POST invalidates nothing', async () => {
    handler = (req, res) => {
      res.writeHead(req.method === 'POST' ? 500 : 200, { 'cache-control': 'max-age=60' });
      res.end('v');
    };
    const p = fresh();
    await send(gw.url, p);
    await send(gw.url, p, { method: 'POST', body: 'x' });
    expect((await send(gw.url, p)).headers['x-cache']).toBe('HIT');
  });

  it('coalesces 100 concurrent misses into exactly one upstream request', async () => {
    handler = (_req, res) => {
      setTimeout(() => {
        res.writeHead(200, { 'cache-control': 'max-age=60' });
        res.end('slow');
      }, 300);
    };
    const p = fresh();
    const replies = await Promise.all(Array.from({ length: 100 }, () => send(gw.url, p)));
    expect(replies.every((r) => r.status === 200 && r.text === 'slow')).toBe(true);
    expect(hits(p)).toBe(1);
    expect(replies.filter((r) => r.headers['x-cache'] === 'MISS')).toHaveLength(1);
  });

  it('the leader of a coalesced miss leaving does not strand the requests waiting on it', async () => {
    handler = (_req, res) => {
      setTimeout(() => {
        if (!res.destroyed) {
          res.writeHead(200, { 'cache-control': 'max-age=60' });
          res.end('late');
        }
      }, 400);
    };
    const p = fresh();
    const url = new URL(gw.url);
    const leader = request({ host: url.hostname, port: url.port, path: p, agent: false });
    leader.on('error', () => undefined);
    leader.end();
    await sleep(100);
    const waiter = send(gw.url, p);
    await sleep(100);
    leader.destroy();
    const r = await waiter;
    expect(r.status).toBe(200);
    expect(r.text).toBe('late');
  });

  it('non-storable result: coalesced waiters go upstream themselves', async () => {
    handler = (_req, res) => {
      setTimeout(() => {
        res.writeHead(200, { 'cache-control': 'no-store' });
        res.end('private');
      }, 200);
    };
    const p = fresh();
    const replies = await Promise.all(Array.from({ length: 5 }, () => send(gw.url, p)));
    expect(replies.every((r) => r.text === 'private')).toBe(true);
    expect(hits(p)).toBe(5);
  });

  it('stale-while-revalidate serves STALE and refreshes in the background', async () => {
    let version = 1;
    handler = (_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=1, stale-while-revalidate=30' });
      res.end(`v${version}`);
    };
    const p = fresh();
    await send(gw.url, p);
    await sleep(2100);
    version = 2;
    const stale = await send(gw.url, p);
    expect(stale.headers['x-cache']).toBe('STALE');
    expect(stale.text).toBe('v1');
    // The refresh runs in the background: poll (bounded) instead of guessing its duration.
    let refreshed = await send(gw.url, p);
    for (let i = 0; i < 50 && refreshed.text !== 'v2'; i++) {
      await sleep(100);
      refreshed = await send(gw.url, p);
    }
    expect(refreshed.headers['x-cache']).toBe('HIT');
    expect(refreshed.text).toBe('v2');
    expect(hits(p)).toBe(2);
  });

  it('stale-if-error serves STALE while the upstream fails; must-revalidate forbids it', async () => {
    handler = reply({ 'cache-control': 'max-age=1, stale-if-error=60' }, 'good');
    const p = fresh();
    await send(gw.url, p);
    handler = reply({ 'cache-control': 'max-age=1, must-revalidate, stale-if-error=60' }, 'strict');
    const q = fresh();
    await send(gw.url, q);
    await sleep(2100);
    handler = reply({}, 'upstream broke', 500);
    const a = await send(gw.url, p);
    expect(a.status).toBe(200);
    expect(a.text).toBe('good');
    expect(a.headers['x-cache']).toBe('STALE');
    const b = await send(gw.url, q);
    expect(b.status).toBe(500);
  });

  it('stale-if-error with the upstream down (connection refused): STALE within the window, 502 past it', async () => {
    const down = await startUpstream((_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=1, stale-if-error=3' });
      res.end('last good');
    });
    const base = testConfig([]);
    const g = await startGateway(
      testConfig(
        [{ prefix: '/', upstreams: [down.url], cache: { enabled: true, allowSetCookie: false } }],
        { cache: { ...base.cache, enabled: true, compression: false } },
      ),
    );
    try {
      await send(g.url, '/sie');
      await down.close();
      await sleep(1500);
      const stale = await send(g.url, '/sie');
      expect(stale.status).toBe(200);
      expect(stale.text).toBe('last good');
      expect(stale.headers['x-cache']).toBe('STALE');
      expect(stale.headers['cache-status']).toContain('stale-if-error');
      await sleep(3000);
      const gone = await send(g.url, '/sie');
      expect(gone.status).toBeGreaterThanOrEqual(502);
      expect(gone.headers['x-cache']).toBe('MISS');
    } finally {
      await g.close();
    }
  });

  // Scenarios modelled on the public http-tests/cache-tests suite (vary-*, invalidate-*).
  it('Vary: a missing selecting header is its own variant; a new variant keeps the old one; values are normalised', async () => {
    handler = (req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=60', vary: 'Foo, Bar, Baz' });
      res.end(`foo=${String(req.headers.foo ?? '-')} bar=${String(req.headers.bar ?? '-')}`);
    };
    const p = fresh();
    await send(gw.url, p, { headers: { foo: '1', baz: '789' } });
    expect((await send(gw.url, p)).headers['x-cache']).toBe('MISS');
    expect((await send(gw.url, p, { headers: { foo: '2', baz: '789' } })).headers['x-cache']).toBe(
      'MISS',
    );
    const again = await send(gw.url, p, { headers: { foo: '1', baz: '789' } });
    expect(again.headers['x-cache']).toBe('HIT');
    expect(again.text).toBe('foo=1 bar=-');
    expect(
      (await send(gw.url, p, { headers: { foo: '1', bar: 'x', baz: '789' } })).headers['x-cache'],
    ).toBe('MISS');
    handler = (_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=60', vary: 'Foo' });
      res.end('n');
    };
    const q = fresh();
    await send(gw.url, q, { headers: { foo: '1,2' } });
    expect((await send(gw.url, q, { headers: { foo: ' 1, 2 ' } })).headers['x-cache']).toBe('HIT');
  });

  it.each(['PUT', 'DELETE', 'PATCH'])(
    'a successful %s invalidates the URL and its Content-Location',
    async (method) => {
      handler = (req, res) => {
        if (req.method !== 'GET') {
          res.writeHead(200, { 'content-location': `${req.url}-cl` });
          res.end('done');
          return;
        }
        res.writeHead(200, { 'cache-control': 'max-age=60' });
        res.end('v');
      };
      const p = fresh();
      await send(gw.url, p);
      await send(gw.url, `${p}-cl`);
      await send(gw.url, p, { method, body: 'abc' });
      expect((await send(gw.url, p)).headers['x-cache']).toBe('MISS');
      expect((await send(gw.url, `${p}-cl`)).headers['x-cache']).toBe('MISS');
    },
  );

  it('a Location on another host invalidates nothing there', async () => {
    handler = (req, res) => {
      if (req.method === 'POST') {
        res.writeHead(201, { location: `http://elsewhere.example${req.url}-x` });
        res.end();
        return;
      }
      res.writeHead(200, { 'cache-control': 'max-age=60' });
      res.end('v');
    };
    const p = fresh();
    await send(gw.url, `${p}-x`, { headers: { host: 'elsewhere.example' } });
    await send(gw.url, p, { method: 'POST', body: 'a' });
    expect(
      (await send(gw.url, `${p}-x`, { headers: { host: 'elsewhere.example' } })).headers['x-cache'],
    ).toBe('HIT');
  });

  it('a 304 keeps stored headers it omits and updates the ones it carries', async () => {
    const lm = new Date(Date.now() - 86_400_000).toUTCString();
    handler = (req, res) => {
      if (req.headers['if-modified-since'] === lm) {
        res.writeHead(304, { 'cache-control': 'max-age=3600', 'x-frame-options': 'SAMEORIGIN' });
        res.end();
        return;
      }
      res.writeHead(200, {
        'cache-control': 'max-age=1',
        'last-modified': lm,
        'test-header': 'A',
        'x-frame-options': 'DENY',
      });
      res.end('body');
    };
    const p = fresh();
    await send(gw.url, p);
    await sleep(2100);
    const validated = await send(gw.url, p);
    expect(validated.headers['test-header']).toBe('A');
    expect(validated.headers['x-frame-options']).toBe('SAMEORIGIN');
    const cached = await send(gw.url, p);
    expect(cached.headers['x-cache']).toBe('HIT');
    expect(cached.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(cached.headers['cache-control']).toBe('max-age=3600');
  });

  it('metrics: cache_hits_total, cache_misses_total, cache_stale_total per route', async () => {
    const m = await send(gw.url, '/metrics');
    expect(m.text).toMatch(/cache_hits_total\{route="route0"\} [1-9]/);
    expect(m.text).toMatch(/cache_misses_total\{route="route0"\} [1-9]/);
    expect(m.text).toMatch(/cache_stale_total\{route="route0"\} [1-9]/);
  });

  it('purge(url) and purgePrefix(prefix) remove stored responses', async () => {
    const cache = gw.gateway.app.get(HttpCacheService);
    handler = reply({ 'cache-control': 'max-age=60' });
    const p = fresh();
    await send(gw.url, p);
    await send(gw.url, `${p}/a`);
    await send(gw.url, `${p}/b`);
    expect(await cache.purge(p)).toBe(1);
    expect((await send(gw.url, p)).headers['x-cache']).toBe('MISS');
    expect(await cache.purgePrefix(`${p}/`)).toBe(2);
    expect((await send(gw.url, `${p}/a`)).headers['x-cache']).toBe('MISS');
    expect(cache.stats().memoryEntries).toBeGreaterThan(0);
  });
});

describe('per-route cache settings and the edge checks in front of the cache', () => {
  const KEY_A = 'cache-test-key-alice-0123456789';
  const KEY_B = 'cache-test-key-bob-0123456789ab';
  const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
  let g: TestGateway;

  beforeAll(async () => {
    const base = testConfig([]);
    const on = { enabled: true, allowSetCookie: false };
    g = await startGateway(
      testConfig(
        [
          {
            name: 'cookie',
            prefix: '/cookie',
            upstreams: [upstream.url],
            cache: { enabled: true, allowSetCookie: true },
          },
          {
            name: 'off',
            prefix: '/off',
            upstreams: [upstream.url],
            cache: { enabled: false, allowSetCookie: false },
          },
          {
            name: 'short',
            prefix: '/short',
            upstreams: [upstream.url],
            cache: { ...on, ttlMs: 1000 },
          },
          {
            name: 'keyed',
            prefix: '/keyed',
            requireAuth: true,
            upstreams: [upstream.url],
            cache: on,
          },
        ],
        {
          cache: { ...base.cache, enabled: true, compression: false },
          auth: testAuthConfig({
            apiKeys: [
              { hash: sha256(KEY_A), name: 'alice' },
              { hash: sha256(KEY_B), name: 'bob' },
            ],
          }),
        },
      ),
    );
  });

  afterAll(async () => {
    await g.close();
  });

  it('metric children exist per caching route from boot; none for a route that does not cache', async () => {
    const m = (await send(g.url, '/metrics')).text;
    expect(m).toContain('cache_misses_total{route="keyed"} 0');
    expect(m).toContain('cache_stale_total{route="short"} 0');
    expect(m).not.toContain('cache_hits_total{route="off"}');
  });

  it('allow_set_cookie stores and replays Set-Cookie', async () => {
    handler = reply({ 'cache-control': 'max-age=60', 'set-cookie': 'sid=42' });
    await send(g.url, '/cookie/a');
    const hit = await send(g.url, '/cookie/a');
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.headers['set-cookie']).toEqual(['sid=42']);
  });

  it('a route with cache.enabled=false neither caches nor adds X-Cache', async () => {
    handler = reply({ 'cache-control': 'max-age=60' });
    await send(g.url, '/off/a');
    const b = await send(g.url, '/off/a');
    expect(b.headers['x-cache']).toBeUndefined();
    expect(upstream.requests.filter((r) => r.url === '/off/a')).toHaveLength(2);
  });

  it("the route's ttl applies to responses that state no freshness", async () => {
    handler = reply({});
    await send(g.url, '/short/a');
    expect((await send(g.url, '/short/a')).headers['x-cache']).toBe('HIT');
    await sleep(1500);
    expect((await send(g.url, '/short/a')).headers['x-cache']).toBe('MISS');
  });

  it('only-if-cached answers 504 on a miss', async () => {
    const r = await send(g.url, '/short/never', { headers: { 'cache-control': 'only-if-cached' } });
    expect(r.status).toBe(504);
    expect(upstream.requests.some((q) => q.url === '/short/never')).toBe(false);
  });

  it('API-key consumers: each gets its own variant (as Kong keys on the consumer); auth still runs first', async () => {
    handler = (req, res) => {
      if (req.method === 'POST') {
        res.writeHead(204);
        res.end();
        return;
      }
      res.writeHead(200, { 'cache-control': 'max-age=60' });
      res.end(`for ${String(req.headers['x-api-key'])}`);
    };
    const get = (key?: string) =>
      send(g.url, '/keyed/me', { headers: key === undefined ? {} : { 'x-api-key': key } });
    expect((await get(KEY_A)).text).toBe(`for ${KEY_A}`);
    expect((await get(KEY_B)).text).toBe(`for ${KEY_B}`);
    const alice = await get(KEY_A);
    const bob = await get(KEY_B);
    expect([alice.headers['x-cache'], alice.text]).toEqual(['HIT', `for ${KEY_A}`]);
    expect([bob.headers['x-cache'], bob.text]).toEqual(['HIT', `for ${KEY_B}`]);
    // The edge check runs before the cache: no key, no cached answer.
    expect((await get()).status).toBe(401);
    // Invalidation is per URL: one consumer's POST clears every consumer's variant.
    await send(g.url, '/keyed/me', { method: 'POST', body: 'x', headers: { 'x-api-key': KEY_A } });
    expect((await get(KEY_B)).headers['x-cache']).toBe('MISS');
    expect(
      upstream.requests.filter((r) => r.url === '/keyed/me' && r.method === 'GET'),
    ).toHaveLength(3);
  });
});

describe('response cache opt-in: explicit CACHE_TTL or a route ttl (spawned gateway)', () => {
  let api: TestUpstream;
  beforeAll(async () => {
    api = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ path: req.url }));
    });
  });
  afterAll(async () => {
    await api.close();
  });

  const routes = () =>
    JSON.stringify([
      { name: 'plain', prefix: '/plain', target_url: api.url },
      { name: 'ttl', prefix: '/ttl', target_url: api.url, cache: { ttl: '30s' } },
      { name: 'off', prefix: '/off', target_url: api.url, cache: { enabled: false } },
    ]);

  async function twice(url: string, path: string): Promise<string[]> {
    const first = await send(url, path);
    const second = await send(url, path);
    return [String(first.headers['x-cache']), String(second.headers['x-cache'])];
  }

  it('should store only what asks by default, a ttl route everything cacheable, and say so at startup', async () => {
    const proc = await spawnGateway({ SERVICE_ROUTES: routes(), DEMO_UPSTREAM: 'false' });
    try {
      expect(await twice(proc.url, '/plain/a')).toEqual(['MISS', 'MISS']);
      expect(await twice(proc.url, '/ttl/a')).toEqual(['MISS', 'HIT']);
      // Log lines leave in batches, so the startup line may land after the first answers.
      await waitFor(() => proc.stdout().includes('response cache'));
      const line = proc
        .stdout()
        .split('\n')
        .filter((l) => l.includes('response cache'));
      expect(line).toHaveLength(1);
      expect(line[0]).toContain(
        'plain: only responses that ask to be cached (max-age, s-maxage, Expires, public, Last-Modified)',
      );
      expect(line[0]).toContain('ttl: also responses without freshness, for 30s (route cache.ttl)');
      expect(line[0]).toContain('not caching (cache.enabled: false): off');
    } finally {
      await proc.stop();
    }
  });

  it('should opt every route in when CACHE_TTL is set in .env', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'gw-cache-'));
    writeFileSync(join(cwd, '.env'), 'CACHE_TTL=1m\n');
    const proc = await spawnGateway({ SERVICE_ROUTES: routes(), DEMO_UPSTREAM: 'false' }, { cwd });
    try {
      expect(await twice(proc.url, '/plain/b')).toEqual(['MISS', 'HIT']);
      expect(await twice(proc.url, '/off/b')).toEqual(['undefined', 'undefined']);
      await waitFor(() => proc.stdout().includes('response cache'));
      expect(proc.stdout()).toContain(
        'plain: also responses without freshness, for 1m (CACHE_TTL set)',
      );
    } finally {
      await proc.stop();
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});

describe('cache metrics on a large route table', () => {
  it('creates a route’s cache series on its first request instead of at boot', async () => {
    const base = testConfig([]);
    // One more route than the eager limit (EAGER_ROUTE_SERIES_MAX_ROUTES).
    const routes = Array.from({ length: 1001 }, (_, i) => ({
      name: `big-${i}`,
      prefix: `/big-${i}`,
      upstreams: [upstream.url],
      cache: { enabled: true, allowSetCookie: false },
    }));
    const big = await startGateway(
      testConfig(routes, {
        cache: { ...base.cache, enabled: true, compression: false },
        // Each scrape rendered afresh, not the one from a second ago.
        observability: { ...base.observability, metricsCacheMs: 0 },
      }),
    );
    try {
      handler = reply({ 'cache-control': 'max-age=60' });
      expect((await send(big.url, '/metrics')).text).not.toContain('route="big-7"');
      expect((await send(big.url, '/big-7/x')).headers['x-cache']).toBe('MISS');
      const after = (await send(big.url, '/metrics')).text;
      expect(after).toContain('cache_misses_total{route="big-7"} 1');
      expect(after).toContain('cache_hits_total{route="big-7"} 0');
      expect(after).not.toContain('route="big-8"');
    } finally {
      await big.close();
    }
  });
});
