import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { RedisService } from '../src/redis/redis.service';
import type { GatewayConfig } from '../src/config/gateway-config.types';
import { startGateway, testConfig, type TestGateway } from './fixtures/gateway';
import { rawExchange, send, sleep, type Reply } from './fixtures/http';
import { startUpstream, type TestUpstream } from './fixtures/upstream';
import { killRedisServer, type RedisServerHandle, startRedisServer } from './support/redis-server';

/**
 * RFC 9111 / 9110 / 9213 behaviours of the shared cache, each case run against the memory store
 * and against the Redis store (a real redis-server), which must behave the same.
 */
type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

let handler: Handler;
let upstream: TestUpstream;
let n = 0;
const fresh = () => `/k/${Date.now()}-${++n}`;
const calls = (path: string) => upstream.requests.filter((r) => r.url === path);

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

const httpDate = (offsetS = 0) => new Date(Date.now() + offsetS * 1000).toUTCString();

function config(redisUrl: string | undefined, extra: Partial<GatewayConfig['cache']> = {}) {
  const base = testConfig([]);
  return testConfig(
    [{ prefix: '/', upstreams: [upstream.url], cache: { enabled: true, allowSetCookie: false } }],
    {
      cache: { ...base.cache, enabled: true, compression: false, ...extra },
      redis: { ...base.redis, url: redisUrl },
    },
  );
}

async function redisReady(gw: TestGateway): Promise<void> {
  const redis = gw.gateway.app.get(RedisService);
  const deadline = Date.now() + 10_000;
  while (!redis.isReady) {
    if (Date.now() > deadline) {
      throw new Error('Redis not ready');
    }
    await sleep(20);
  }
}

/** A GET that records the 1xx responses it receives before the final one. */
function sendSeeingInterim(
  base: string,
  path: string,
): Promise<{ interim: [number, Record<string, unknown>][]; final: IncomingMessage; text: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const interim: [number, Record<string, unknown>][] = [];
    const req = request({ host: url.hostname, port: url.port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ interim, final: res, text: Buffer.concat(chunks).toString() }));
    });
    req.on('information', (info) => interim.push([info.statusCode, info.headers]));
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  upstream = await startUpstream((req, res, body) => handler(req, res, body));
});

afterAll(async () => {
  await upstream.close();
});

function conformance(store: 'memory' | 'redis'): void {
  describe(`cache conformance (${store} store)`, () => {
    let gw: TestGateway;
    let redis: RedisServerHandle | undefined;

    beforeAll(async () => {
      redis = store === 'redis' ? await startRedisServer() : undefined;
      gw = await startGateway(config(redis?.url, { targetedField: 'gateway-cache-control' }));
      if (redis !== undefined) {
        await redisReady(gw);
      }
    });

    afterAll(async () => {
      await gw.close();
      if (redis !== undefined) {
        await killRedisServer(redis);
      }
    });

    /** A Redis write lands asynchronously: give it a moment before the next lookup. */
    const settle = () => sleep(store === 'redis' ? 150 : 5);

    async function twice(
      path: string,
      first: Parameters<typeof send>[2] = {},
      second: Parameters<typeof send>[2] = first,
    ): Promise<[Reply, Reply]> {
      const a = await send(gw.url, path, first);
      await settle();
      const b = await send(gw.url, path, second);
      return [a, b];
    }

    describe('dates and Age (RFC 9110 §5.6.7, RFC 9111 §5.1, §5.3)', () => {
      it.each([
        ['a 1-digit hour', 'Thu, 18 Aug 2050 2:01:18 GMT'],
        ['dashes in the date', 'Thu, 18-Aug-2050 02:01:18 GMT'],
        ['several spaces', 'Thu, 18  Aug  2050 02:01:18 GMT'],
        ['no comma', 'Thu 18 Aug 2050 02:01:18 GMT'],
        ['UTC instead of GMT', 'Thu, 18 Aug 2050 02:01:18 UTC'],
      ])('an Expires with %s is already expired', async (_what, expires) => {
        handler = reply({ date: httpDate(), expires });
        const p = fresh();
        const [, b] = await twice(p);
        expect(b.headers['x-cache']).toBe('MISS');
        expect(calls(p)).toHaveLength(2);
      });

      it.each([
        ['RFC 850', 'Thursday, 18-Aug-50 02:01:18 GMT'],
        ['asctime', 'Thu Aug  8 02:01:18 2050'],
      ])('an Expires in the %s form is honoured', async (_what, expires) => {
        handler = reply({ date: httpDate(), expires });
        const p = fresh();
        const [, b] = await twice(p);
        expect(b.headers['x-cache']).toBe('HIT');
        expect(calls(p)).toHaveLength(1);
      });

      it('only the first Age line counts: `7200` then `0` is stale, `0` then `7200` fresh', async () => {
        const p1 = fresh();
        handler = reply({ date: httpDate(), 'cache-control': 'max-age=3600', age: ['7200', '0'] });
        expect((await twice(p1))[1].headers['x-cache']).toBe('MISS');
        const p2 = fresh();
        handler = reply({ date: httpDate(), 'cache-control': 'max-age=3600', age: ['0', '7200'] });
        expect((await twice(p2))[1].headers['x-cache']).toBe('HIT');
      });

      it.each(['7200.0', '-7200', 'abc'])('an Age of %p is ignored as a whole', async (age) => {
        handler = reply({ date: httpDate(), 'cache-control': 'max-age=3600', age });
        const p = fresh();
        const [, b] = await twice(p);
        expect(b.headers['x-cache']).toBe('HIT');
        expect(Number(b.headers.age)).toBeLessThan(5);
      });
    });

    describe('targeted cache control (RFC 9213)', () => {
      it.each([
        ['longer', { 'cache-control': 'max-age=1', 'cdn-cache-control': 'max-age=3600' }, 'HIT'],
        ['shorter', { 'cache-control': 'max-age=3600', 'cdn-cache-control': 'max-age=1' }, 'MISS'],
        ['no-store', { 'cache-control': 'max-age=3600', 'cdn-cache-control': 'no-store' }, 'MISS'],
        ['private', { 'cache-control': 'max-age=3600', 'cdn-cache-control': 'private' }, 'MISS'],
        ['no-cache', { 'cache-control': 'max-age=3600', 'cdn-cache-control': 'no-cache' }, 'MISS'],
        [
          'max-age over CC no-store',
          { 'cache-control': 'no-store', 'cdn-cache-control': 'max-age=600' },
          'HIT',
        ],
        [
          'max-age=0 with a future Expires',
          { 'cdn-cache-control': 'max-age=0', expires: httpDate(3600), date: httpDate() },
          'MISS',
        ],
        [
          'invalid (falls back)',
          { 'cache-control': 'no-store', 'cdn-cache-control': 'max-age=600, &&' },
          'MISS',
        ],
      ])('CDN-Cache-Control %s decides over Cache-Control', async (_what, fields, verdict) => {
        const headers: Record<string, string> = fields;
        handler = reply(headers);
        const p = fresh();
        const a = await send(gw.url, p);
        expect(a.headers['cache-control']).toBe(headers['cache-control']);
        expect(a.headers['cdn-cache-control']).toBe(headers['cdn-cache-control']);
        await sleep(1100);
        const b = await send(gw.url, p);
        expect(b.headers['x-cache']).toBe(verdict);
        // Cache-Control still reaches the client as the upstream sent it, from the cache too.
        expect(b.headers['cache-control']).toBe(headers['cache-control']);
      });

      it('the gateway field wins over CDN-Cache-Control and never leaves the gateway', async () => {
        handler = reply({
          'cache-control': 'no-store',
          'cdn-cache-control': 'no-store',
          'gateway-cache-control': 'max-age=600',
        });
        const p = fresh();
        const [a, b] = await twice(p);
        expect(a.headers['gateway-cache-control']).toBeUndefined();
        expect(b.headers['x-cache']).toBe('HIT');
        expect(b.headers['gateway-cache-control']).toBeUndefined();
        expect(b.headers['cdn-cache-control']).toBe('no-store');
        expect(b.headers['cache-control']).toBe('no-store');
      });
    });

    describe('Vary (RFC 9111 §4.1)', () => {
      const varying = (vary: string) =>
        reply({ 'cache-control': 'max-age=600', vary, date: httpDate() });
      const h = (headers: Record<string, string | string[]>) => ({ headers });

      it('matches on the listed field only; another value or an omitted one is a miss', async () => {
        handler = varying('Foo');
        const p = fresh();
        const [, same] = await twice(p, h({ foo: '1', other: '2' }), h({ foo: '1', other: '3' }));
        expect(same.headers['x-cache']).toBe('HIT');
        expect(same.headers.vary).toBe('Foo');
        expect((await send(gw.url, p, h({ foo: '2' }))).headers['x-cache']).toBe('MISS');
        expect((await send(gw.url, p)).headers['x-cache']).toBe('MISS');
        const q = fresh();
        const [, stored] = await twice(q, {}, h({ foo: '1' }));
        expect(stored.headers['x-cache']).toBe('MISS');
      });

      it('keeps two variants side by side', async () => {
        const p = fresh();
        handler = (req, res) => {
          res.writeHead(200, { 'cache-control': 'max-age=600', vary: 'Foo' });
          res.end(`variant ${String(req.headers.foo)}`);
        };
        await send(gw.url, p, h({ foo: '1' }));
        await send(gw.url, p, h({ foo: '2' }));
        await settle();
        const one = await send(gw.url, p, h({ foo: '1' }));
        const two = await send(gw.url, p, h({ foo: '2' }));
        expect([one.text, one.headers['x-cache']]).toEqual(['variant 1', 'HIT']);
        expect([two.text, two.headers['x-cache']]).toEqual(['variant 2', 'HIT']);
      });

      it.each([
        ['repeated lines are one list', { foo: '1, 2' }, { foo: ['1', '2'] }],
        ['optional whitespace does not count', { foo: '1,2' }, { foo: ' 1, 2 ' }],
      ])('normalises an unknown field: %s', async (_what, first, second) => {
        handler = varying('Foo');
        const [, b] = await twice(fresh(), h(first), h(second));
        expect(b.headers['x-cache']).toBe('HIT');
      });

      it.each(['de, en', 'eN, De', ' en ,   de'])(
        'Accept-Language %p selects what `en, de` stored (case, order, whitespace)',
        async (second) => {
          handler = varying('Accept-Language');
          const [, b] = await twice(
            fresh(),
            h({ 'accept-language': 'en, de' }),
            h({ 'accept-language': second }),
          );
          expect(b.headers['x-cache']).toBe('HIT');
        },
      );

      it('Accept-Language selects a stored Content-Language by q-value, most preferred only', async () => {
        handler = reply({
          'cache-control': 'max-age=600',
          vary: 'Accept-Language',
          'content-language': 'de',
        });
        const p = fresh();
        await send(gw.url, p, h({ 'accept-language': 'en, de' }));
        await settle();
        const de = await send(gw.url, p, h({ 'accept-language': 'fr;q=0.5, de;q=1.0' }));
        expect([de.headers['x-cache'], de.headers['content-language']]).toEqual(['HIT', 'de']);
        const en = await send(gw.url, p, h({ 'accept-language': 'en, de;q=0.5' }));
        expect(en.headers['x-cache']).toBe('MISS');
      });

      it('a different Accept-Language preference is another variant', async () => {
        handler = varying('Accept-Language');
        const [, b] = await twice(
          fresh(),
          h({ 'accept-language': 'en, de;q=0.5' }),
          h({ 'accept-language': 'de, en;q=0.5' }),
        );
        expect(b.headers['x-cache']).toBe('MISS');
      });

      it.each([['*'], ['*, *'], [', *'], ['Foo, *'], [['', '*']]])(
        'Vary %p is never stored',
        async (vary) => {
          handler = reply({ 'cache-control': 'max-age=600', vary });
          const [, b] = await twice(fresh(), h({ foo: '1' }));
          expect(b.headers['x-cache']).toBe('MISS');
        },
      );
    });

    describe('conditional requests (RFC 9110 §13.1.3, RFC 9111 §4.3)', () => {
      const lastModified = httpDate(-3000);

      it('a fresh stored response answers a matching If-Modified-Since with 304', async () => {
        handler = reply({ 'cache-control': 'max-age=600', 'last-modified': lastModified });
        const p = fresh();
        await send(gw.url, p);
        await settle();
        const same = await send(gw.url, p, { headers: { 'if-modified-since': lastModified } });
        expect([same.status, same.headers['x-cache']]).toEqual([304, 'HIT']);
        const later = await send(gw.url, p, { headers: { 'if-modified-since': httpDate(-10) } });
        expect(later.status).toBe(304);
        const earlier = await send(gw.url, p, {
          headers: { 'if-modified-since': httpDate(-6000) },
        });
        expect([earlier.status, earlier.text]).toEqual([200, 'payload']);
        expect(calls(p)).toHaveLength(1);
      });

      it('a stale one answers it with 304 after revalidating with its own Last-Modified', async () => {
        const p = fresh();
        handler = (req, res) => {
          if (req.headers['if-modified-since'] === lastModified) {
            res.writeHead(304, { 'cache-control': 'max-age=1', 'last-modified': lastModified });
            res.end();
            return;
          }
          res.writeHead(200, { 'cache-control': 'max-age=1', 'last-modified': lastModified });
          res.end('payload');
        };
        await send(gw.url, p);
        await sleep(1200);
        const b = await send(gw.url, p, { headers: { 'if-modified-since': lastModified } });
        expect(b.status).toBe(304);
        expect(calls(p)).toHaveLength(2);
        expect(calls(p)[1].headers['if-modified-since']).toBe(lastModified);
      });

      it("revalidation carries the stored request's selecting fields", async () => {
        const p = fresh();
        handler = (req, res) => {
          const headers = { 'cache-control': 'max-age=1', etag: '"v1"', vary: 'Accept-Language' };
          res.writeHead(req.headers['if-none-match'] === '"v1"' ? 304 : 200, headers);
          res.end(req.headers['if-none-match'] === '"v1"' ? undefined : 'payload');
        };
        await send(gw.url, p, { headers: { 'accept-language': 'en, de' } });
        await sleep(1200);
        const b = await send(gw.url, p, { headers: { 'accept-language': 'DE ,en' } });
        expect([b.status, b.headers['x-cache'], b.text]).toEqual([200, 'HIT', 'payload']);
        const revalidation = calls(p)[1];
        expect(revalidation.headers['if-none-match']).toBe('"v1"');
        expect(revalidation.headers['accept-language']).toBe('en, de');
      });

      // Selecting fields go upstream under the gateway's request-header rules like any client
      // field: a response varying on a header the gateway strips, drops or sets itself must not
      // turn the revalidation into a way around those rules.
      it.each([
        ['a revalidation', 'max-age=1'],
        ['a background refresh', 'max-age=1, stale-while-revalidate=60'],
      ])(
        '%s never sends a selecting field the gateway strips or sets itself',
        async (_what, cc) => {
          const p = fresh();
          handler = (req, res) => {
            const headers = {
              'cache-control': cc,
              etag: '"v1"',
              vary: 'X-Forwarded-Host, X-Original-URL, X_User_Id, X-Forwarded-For, Accept-Language',
            };
            res.writeHead(req.headers['if-none-match'] === '"v1"' ? 304 : 200, headers);
            res.end(req.headers['if-none-match'] === '"v1"' ? undefined : 'payload');
          };
          const hostile = {
            'x-forwarded-host': 'evil.example',
            'x-original-url': '/admin',
            x_user_id: 'root',
            'x-forwarded-for': '203.0.113.66',
          };
          await send(gw.url, p, { headers: { ...hostile, 'accept-language': 'en, de' } });
          await sleep(1200);
          await send(gw.url, p, { headers: { ...hostile, 'accept-language': 'DE ,en' } });
          const deadline = Date.now() + 3000;
          while (calls(p).length < 2 && Date.now() < deadline) {
            await sleep(20);
          }
          const [first, revalidation] = calls(p);
          expect(revalidation.headers['if-none-match']).toBe('"v1"');
          expect(revalidation.headers['accept-language']).toBe('en, de');
          expect(first.headers['x-forwarded-host']).not.toBe('evil.example');
          for (const name of [
            'x-forwarded-host',
            'x-original-url',
            'x_user_id',
            'x-forwarded-for',
          ]) {
            expect([name, revalidation.headers[name]]).toEqual([name, first.headers[name]]);
          }
          expect(revalidation.headers['x-original-url']).toBeUndefined();
          expect(revalidation.headers.x_user_id).toBeUndefined();
        },
      );
    });

    describe('unsafe methods (RFC 9110 §9.3.3, RFC 9111 §4.4)', () => {
      it('a POST answer with explicit freshness and Content-Location equal to the URL answers a later GET', async () => {
        const p = fresh();
        handler = (req, res) => {
          res.writeHead(200, {
            'content-type': 'text/plain',
            'cache-control': 'max-age=600',
            'content-location': req.url ?? '',
          });
          res.end(`answer to ${req.method ?? ''}`);
        };
        const post = await send(gw.url, p, { method: 'POST', body: '12345' });
        expect(post.headers['cache-status']).toContain('stored');
        await settle();
        const get = await send(gw.url, p);
        expect([get.headers['x-cache'], get.text]).toEqual(['HIT', 'answer to POST']);
        expect(calls(p)).toHaveLength(1);
      });

      it.each([
        ['another URL', { 'cache-control': 'max-age=600', 'content-location': '/elsewhere' }],
        ['no explicit freshness', { 'content-location': 'SELF', 'last-modified': httpDate(-60) }],
        ['no Content-Location', { 'cache-control': 'max-age=600' }],
      ])('not with %s', async (_what, headers) => {
        const p = fresh();
        handler = (req, res) => {
          const h: Record<string, string> = { ...headers };
          if (h['content-location'] === 'SELF') {
            h['content-location'] = req.url ?? '';
          }
          res.writeHead(200, h);
          res.end('x');
        };
        await send(gw.url, p, { method: 'POST', body: '12345' });
        await settle();
        expect((await send(gw.url, p)).headers['x-cache']).toBe('MISS');
      });
    });

    describe('ranges (RFC 9110 §14, RFC 9111 §3.3, §3.4)', () => {
      const range = (r: string, extra: Record<string, string> = {}) => ({
        headers: { range: r, ...extra },
      });

      it.each([
        ['bytes=0-1', '01', 'bytes 0-1/11'],
        ['bytes=1-', '1234567890', 'bytes 1-10/11'],
        ['bytes=-1', '0', 'bytes 10-10/11'],
        ['bytes=3-100', '34567890', 'bytes 3-10/11'],
      ])('%s of a stored complete response is a 206 from the cache', async (r, text, cr) => {
        handler = reply({ 'cache-control': 'max-age=600', a: '1' }, '01234567890');
        const p = fresh();
        await send(gw.url, p);
        await settle();
        const b = await send(gw.url, p, range(r));
        expect([b.status, b.text, b.headers['content-range']]).toEqual([206, text, cr]);
        expect(b.headers['content-length']).toBe(String(text.length));
        expect([b.headers['x-cache'], b.headers.a]).toEqual(['HIT', '1']);
        expect(calls(p)).toHaveLength(1);
      });

      it('416 for a range past the end; several ranges or a stale If-Range get the whole', async () => {
        handler = reply({ 'cache-control': 'max-age=600', etag: '"v1"' }, '01234567890');
        const p = fresh();
        await send(gw.url, p);
        await settle();
        const past = await send(gw.url, p, range('bytes=20-'));
        expect([past.status, past.headers['content-range'], past.text]).toEqual([
          416,
          'bytes */11',
          '',
        ]);
        const two = await send(gw.url, p, range('bytes=0-1,4-5'));
        expect([two.status, two.text]).toEqual([200, '01234567890']);
        const old = await send(gw.url, p, range('bytes=0-1', { 'if-range': '"v0"' }));
        expect([old.status, old.text]).toEqual([200, '01234567890']);
        const current = await send(gw.url, p, range('bytes=0-1', { 'if-range': '"v1"' }));
        expect([current.status, current.text]).toEqual([206, '01']);
        expect(calls(p)).toHaveLength(1);
      });

      /** An upstream honouring single ranges of `whole`, with a strong ETag. */
      const ranged =
        (whole: string): Handler =>
        (req, res) => {
          const m = /^bytes=(\d+)-(\d+)$/.exec(String(req.headers.range));
          const headers = { 'cache-control': 'max-age=600', etag: '"w1"' };
          if (m === null) {
            res.writeHead(200, headers);
            res.end(whole);
            return;
          }
          const [first, last] = [Number(m[1]), Number(m[2])];
          res.writeHead(206, {
            ...headers,
            'content-range': `bytes ${first}-${last}/${whole.length}`,
          });
          res.end(whole.slice(first, last + 1));
        };

      it('stores a 206 and answers ranges it covers; not the whole, nor ranges outside it', async () => {
        handler = ranged('0123456789');
        const p = fresh();
        const a = await send(gw.url, p, range('bytes=4-9'));
        expect([a.status, a.text]).toEqual([206, '456789']);
        await settle();
        const inside = await send(gw.url, p, range('bytes=6-8'));
        expect([inside.status, inside.text, inside.headers['x-cache']]).toEqual([
          206,
          '678',
          'HIT',
        ]);
        expect(inside.headers['content-range']).toBe('bytes 6-8/10');
        const suffix = await send(gw.url, p, range('bytes=-2'));
        expect([suffix.text, suffix.headers['x-cache']]).toEqual(['89', 'HIT']);
        const outside = await send(gw.url, p, range('bytes=0-1'));
        expect([outside.text, outside.headers['x-cache']]).toEqual(['01', 'MISS']);
        expect(calls(p)).toHaveLength(2);
      });

      it('combines the parts of one strong validator into the complete response', async () => {
        handler = ranged('0123456789');
        const p = fresh();
        await send(gw.url, p, range('bytes=0-4'));
        await settle();
        await send(gw.url, p, range('bytes=5-9'));
        await settle();
        const whole = await send(gw.url, p);
        expect([whole.status, whole.text, whole.headers['x-cache']]).toEqual([
          200,
          '0123456789',
          'HIT',
        ]);
        expect(whole.headers['content-length']).toBe('10');
        expect(whole.headers['content-range']).toBeUndefined();
        expect(calls(p)).toHaveLength(2);
      });

      it('a 206 whose body does not fill its Content-Range is not stored', async () => {
        handler = reply(
          { 'cache-control': 'max-age=600', 'content-range': 'bytes 4-9/10' },
          '01234',
          206,
        );
        const p = fresh();
        await send(gw.url, p, range('bytes=4-9'));
        await settle();
        expect((await send(gw.url, p, range('bytes=4-9'))).headers['x-cache']).toBe('MISS');
      });
    });

    describe('stale while the upstream is unreachable (RFC 9111 §4.2.4)', () => {
      /** Answers once with `cc`, then closes every later connection without a response. */
      const thenDisconnect = (cc: string): Handler => {
        let answered = false;
        return (_req, res) => {
          if (answered) {
            res.socket?.destroy();
            return;
          }
          answered = true;
          res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': cc });
          res.end('last good');
        };
      };

      it('a stale response is served when the upstream closes the connection', async () => {
        handler = thenDisconnect('max-age=1');
        const p = fresh();
        await send(gw.url, p);
        await sleep(1200);
        const b = await send(gw.url, p);
        expect([b.status, b.text, b.headers['x-cache']]).toEqual([200, 'last good', 'STALE']);
        expect(b.headers['cache-status']).toContain('detail=unreachable');
      });

      it.each(['must-revalidate', 'proxy-revalidate', 'no-cache', 's-maxage=1'])(
        'never when the response says %s',
        async (directive) => {
          handler = thenDisconnect(`max-age=1, ${directive}`);
          const p = fresh();
          await send(gw.url, p);
          await sleep(1200);
          const b = await send(gw.url, p);
          expect(b.status).toBeGreaterThanOrEqual(502);
          expect(b.headers['x-cache']).toBe('MISS');
        },
      );
    });

    describe('interim responses (RFC 9110 §15.2)', () => {
      const withHints: Handler = (_req, res) => {
        res.writeProcessing();
        res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style', 'x-hint': 'early' });
        res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=600' });
        res.end('final');
      };

      it('102 and 103 reach the client as they arrive; the final response alone is stored', async () => {
        handler = withHints;
        const p = fresh();
        const a = await sendSeeingInterim(gw.url, p);
        expect(a.interim.map(([status]) => status)).toEqual([102, 103]);
        expect(a.interim[1][1]).toMatchObject({
          link: '</style.css>; rel=preload; as=style',
          'x-hint': 'early',
        });
        expect(a.final.statusCode).toBe(200);
        expect(a.final.headers['x-hint']).toBeUndefined();
        expect(a.text).toBe('final');
        await settle();
        const b = await sendSeeingInterim(gw.url, p);
        expect(b.final.headers['x-cache']).toBe('HIT');
        expect(b.interim).toEqual([]);
        expect(b.final.headers['x-hint']).toBeUndefined();
        expect(b.text).toBe('final');
        expect(calls(p)).toHaveLength(1);
      });

      it('an HTTP/1.0 client gets no interim response', async () => {
        handler = withHints;
        const raw = await rawExchange(gw.port, `GET ${fresh()} HTTP/1.0\r\nHost: x\r\n\r\n`);
        expect(raw).toMatch(/^HTTP\/1\.1 200 /);
        expect(raw).not.toContain(' 103 ');
      });
    });
  });
}

conformance('memory');
conformance('redis');
