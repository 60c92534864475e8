import type { IncomingMessage, ServerResponse } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { RedisService } from '../src/redis/redis.service';
import { HttpCacheService } from '../src/cache/http-cache.service';
import { startGateway, testConfig, type TestGateway } from './fixtures/gateway';
import { send as sendTo, waitFor, type Reply } from './fixtures/http';
import { binaryBody, cacheableOctets, startUpstream, type TestUpstream } from './fixtures/upstream';
import { killRedisServer, type RedisServerHandle, startRedisServer } from './support/redis-server';

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

let handler: Handler;
let upstream: TestUpstream;
let n = 0;
const fresh = () => `/r/${Date.now()}-${++n}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * Replicas behind one load balancer see the same Host; the cache keys on the authority, port
 * included, so the clients here name one instead of each gateway's own 127.0.0.1:port.
 */
const send: typeof sendTo = (base, path, opts = {}) =>
  sendTo(base, path, { ...opts, headers: { host: 'shared.example', ...opts.headers } });
const calls = (path: string) => upstream.requests.filter((r) => r.url === path).length;

function gatewayConfig(redisUrl: string, compression = false) {
  const base = testConfig([]);
  return testConfig(
    [{ prefix: '/', upstreams: [upstream.url], cache: { enabled: true, allowSetCookie: false } }],
    {
      cache: { ...base.cache, enabled: true, compression },
      redis: { ...base.redis, url: redisUrl },
    },
  );
}

async function ready(gw: TestGateway): Promise<void> {
  const redis = gw.gateway.app.get(RedisService);
  const deadline = Date.now() + 10_000;
  while (!redis.isReady) {
    if (Date.now() > deadline) {
      throw new Error('Redis not ready');
    }
    await sleep(20);
  }
}

/** Retries until the reply is a HIT: the store's SET and the next GET use different connections. */
async function untilHit(
  gw: TestGateway,
  path: string,
  headers: Record<string, string> = {},
): Promise<Reply> {
  let last: Reply | undefined;
  for (let i = 0; i < 50; i++) {
    last = await send(gw.url, path, { headers });
    if (last.headers['x-cache'] === 'HIT') {
      return last;
    }
    await sleep(50);
  }
  return last!;
}

beforeAll(async () => {
  upstream = await startUpstream((req, res, body) => handler(req, res, body));
});

afterAll(async () => {
  await upstream.close();
});

// First: Nest's static logger writes to the most recently created app, so this suite's
// gateway must be the newest one while it counts outage log lines.
describe('Redis killed and restarted under the cache', () => {
  let redis: RedisServerHandle;
  let gw: TestGateway;

  beforeAll(async () => {
    redis = await startRedisServer();
    gw = await startGateway(gatewayConfig(redis.url));
    await ready(gw);
  });

  afterAll(async () => {
    await gw.close();
    await killRedisServer(redis);
  });

  it('keeps serving while Redis is down (memory fallback), logs the outage once, recovers by itself', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=60' });
      res.end('resilient');
    };
    const p = fresh();
    await send(gw.url, p);
    expect((await untilHit(gw, p)).headers['x-cache']).toBe('HIT');

    await killRedisServer(redis, false);
    const during: Reply[] = [];
    for (let i = 0; i < 20; i++) {
      during.push(await send(gw.url, p));
    }
    expect(during.every((r) => r.status === 200 && r.text === 'resilient')).toBe(true);
    // Stored in memory meanwhile: the outage does not turn every request into a miss.
    expect(during.at(-1)!.headers['x-cache']).toBe('HIT');
    expect(gw.gateway.app.get(HttpCacheService).stats().store).toBe('memory');
    const outageLogs = () => gw.logs.filter((l) => String(l.msg).includes('Redis unavailable'));
    await waitFor(() => outageLogs().length > 0, 5_000);
    for (let i = 0; i < 20; i++) {
      expect((await send(gw.url, fresh())).status).toBe(200);
    }
    // Logged once per outage, never per request.
    expect(outageLogs()).toHaveLength(1);

    redis = await startRedisServer(redis.port);
    await ready(gw);
    const q = fresh();
    await send(gw.url, q);
    const hit = await untilHit(gw, q);
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(gw.gateway.app.get(HttpCacheService).stats().store).toBe('redis');
  });
});

describe('Redis-backed cache shared by two gateways', () => {
  let a: TestGateway;
  let b: TestGateway;

  beforeAll(async () => {
    const url = process.env.TEST_REDIS_URL!;
    a = await startGateway(gatewayConfig(url));
    b = await startGateway(gatewayConfig(url));
    await Promise.all([ready(a), ready(b)]);
  });

  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('a response stored by one replica is a HIT on the other', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=60' });
      res.end('shared');
    };
    const p = fresh();
    expect((await send(a.url, p)).headers['x-cache']).toBe('MISS');
    const hit = await untilHit(b, p);
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.text).toBe('shared');
    expect(calls(p)).toBe(1);
    expect(b.gateway.app.get(HttpCacheService).stats().store).toBe('redis');
  });

  // 256 bytes (every byte value) take the one-write latin1 path on the way out; 300,000 do not.
  it.each([256, 300_000])(
    'binary bodies of %d bytes round-trip byte-exact through Redis',
    async (size) => {
      const bytes = binaryBody(size);
      handler = cacheableOctets(bytes);
      const p = fresh();
      await send(a.url, p);
      const hit = await untilHit(b, p);
      expect(hit.headers['x-cache']).toBe('HIT');
      expect(hit.body.equals(bytes)).toBe(true);
    },
  );

  it('Vary variants are shared too', async () => {
    handler = (req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=60', vary: 'Accept-Language' });
      res.end(`lang=${req.headers['accept-language']}`);
    };
    const p = fresh();
    await send(a.url, p, { headers: { 'accept-language': 'de' } });
    await send(a.url, p, { headers: { 'accept-language': 'it' } });
    expect((await untilHit(b, p, { 'accept-language': 'it' })).text).toBe('lang=it');
    expect((await untilHit(b, p, { 'accept-language': 'de' })).text).toBe('lang=de');
    expect(calls(p)).toBe(2);
  });

  it('entries from Redis are compressed on the way out (identity stored, gzip and br served)', async () => {
    const text = JSON.stringify(Array.from({ length: 300 }, (_, i) => ({ id: i })));
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' });
      res.end(text);
    };
    const c = await startGateway(gatewayConfig(process.env.TEST_REDIS_URL!, true));
    try {
      await ready(c);
      const p = fresh();
      await send(a.url, p);
      for (const coding of ['gzip', 'br', 'gzip']) {
        const hit = await untilHit(c, p, { 'accept-encoding': coding });
        expect(hit.headers['content-encoding']).toBe(coding);
        const plainText =
          coding === 'gzip'
            ? gunzipSync(hit.body).toString()
            : brotliDecompressSync(hit.body).toString();
        expect(plainText).toBe(text);
      }
      const identity = await send(c.url, p);
      expect(identity.text).toBe(text);
      expect(calls(p)).toBe(1);
    } finally {
      await c.close();
    }
  });

  it('a POST through one replica invalidates for both; purge on one purges for all', async () => {
    handler = (req, res) => {
      res.writeHead(req.method === 'POST' ? 204 : 200, { 'cache-control': 'max-age=60' });
      res.end(req.method === 'POST' ? undefined : 'x');
    };
    const p = fresh();
    await send(a.url, p);
    await untilHit(b, p);
    await send(b.url, p, { method: 'POST', body: 'y' });
    expect((await send(a.url, p)).headers['x-cache']).toBe('MISS');
    await untilHit(b, p);
    expect(await a.gateway.app.get(HttpCacheService).purge(p)).toBe(1);
    expect((await send(b.url, p)).headers['x-cache']).toBe('MISS');
    const q = fresh();
    await send(a.url, `${q}/1`);
    await send(a.url, `${q}/2`);
    await untilHit(b, `${q}/2`);
    expect(await b.gateway.app.get(HttpCacheService).purgePrefix(`${q}/`)).toBe(2);
    expect((await send(a.url, `${q}/1`)).headers['x-cache']).toBe('MISS');
  });
});
