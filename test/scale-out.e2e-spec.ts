import { send, sleep, waitFor } from './fixtures/http';
import { type GatewayProcess, spawnGateway } from './fixtures/process';
import { startUpstream, type TestUpstream } from './fixtures/upstream';
import { killRedisServer, type RedisServerHandle, startRedisServer } from './support/redis-server';

const RATE = 1; // tokens per second
const BURST = 100;
const ADMIN_TOKEN = 'scale-out-admin-token-0123456789abcdef';

/** A client of its own (its own buckets), believed because 127.0.0.1 is a trusted proxy. */
/**
 * A client behind the load balancer: its address, and the one Host every replica sees (the cache
 * keys on the authority, port included, so not each replica's own 127.0.0.1:port).
 */
const as = (ip: string) => ({ headers: { 'x-forwarded-for': ip, host: 'api.example.com' } });
const admin = (body: unknown) => ({
  method: 'POST',
  headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/**
 * Three gateway processes (what three pods are) sharing one real redis-server that this suite
 * owns, so it can kill and restart it.
 */
describe('scale-out: three replicas sharing one Redis (e2e, built gateway)', () => {
  let upstream: TestUpstream;
  let late: TestUpstream;
  let redis: RedisServerHandle;
  let replicas: GatewayProcess[] = [];

  beforeAll(async () => {
    upstream = await startUpstream();
    late = await startUpstream((_req, res) => res.end('late-upstream'));
    redis = await startRedisServer();
    const env = {
      SERVICE_ROUTES: JSON.stringify([{ name: 'app', prefix: '/', target_url: upstream.url }]),
      REDIS_URL: redis.url,
      MAX_REQUESTS_PER_SECOND: String(RATE),
      MAX_BURST_SIZE: String(BURST),
      // Flood blocking out of the way: this suite measures the token bucket.
      DDOS_THRESHOLD: '100000',
      ADMIN_TOKEN,
      TRUSTED_PROXIES: '127.0.0.1',
      ENABLE_CACHING: 'true',
      // The upstream sends no Cache-Control: only an explicit CACHE_TTL lets the cache store it.
      CACHE_TTL: '1m',
      LOG_LEVEL: 'info',
    };
    replicas = await Promise.all([spawnGateway(env), spawnGateway(env), spawnGateway(env)]);
    // Each replica connects to Redis right after boot (a few ms); leave it ample time.
    await sleep(500);
    expect(replicas.every((r) => !r.stdout().includes('Redis unavailable'))).toBe(true);
  });

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await killRedisServer(redis);
    await upstream.close();
    await late.close();
  });

  /** One client (127.0.0.1) spreading `count` requests over the replicas in turn. */
  async function spread(count: number, tag: string) {
    const started = Date.now();
    const statuses: number[] = [];
    const sentAt: number[] = [];
    for (let i = 0; i < count; i++) {
      const replica = replicas[i % replicas.length];
      sentAt.push(Date.now());
      statuses.push((await send(replica.url, `/${tag}/${i}`)).status);
    }
    const elapsedSeconds = (Date.now() - started) / 1000;
    return {
      statuses,
      sentAt,
      finishedAt: Date.now(),
      allowed: statuses.filter((s) => s === 200).length,
      limited: statuses.filter((s) => s === 429).length,
      // What one bucket may have let through: the burst plus the refill while we sent.
      maxExpected: BURST + RATE * elapsedSeconds,
    };
  }

  function expectSharedBudget(result: Awaited<ReturnType<typeof spread>>): void {
    expect(result.allowed + result.limited).toBe(result.statuses.length);
    // One budget (±5 %), not three: per-replica buckets would let 3 × BURST through.
    expect(result.allowed).toBeGreaterThanOrEqual(Math.floor(BURST * 0.95));
    expect(result.allowed).toBeLessThanOrEqual(Math.ceil(result.maxExpected * 1.05));
    // Every replica turned the client away once the shared bucket was empty. The bucket still
    // refills at RATE, so over the last 10 requests each replica answered, a slow machine may
    // see a refilled token or two admitted; never more than the refill in that window.
    const tail = 10 * replicas.length;
    const from = result.statuses.length - tail;
    const windowSeconds = (result.finishedAt - result.sentAt[from]) / 1000;
    const refills = Math.ceil(windowSeconds * RATE) + 1;
    for (let r = 0; r < replicas.length; r++) {
      const own = result.statuses.slice(from).filter((_, i) => (from + i) % replicas.length === r);
      expect(own.filter((s) => s === 429).length).toBeGreaterThanOrEqual(own.length - refills);
    }
    const admittedInTail = result.statuses.slice(from).filter((s) => s === 200).length;
    expect(admittedInTail).toBeLessThanOrEqual(refills);
  }

  it('should give a client spread over the three replicas one configured budget', async () => {
    expectSharedBudget(await spread(BURST * 2, 'budget'));
  });

  it('should apply a blacklist entry added on one replica on the others within a second', async () => {
    const ip = '203.0.113.7';
    for (const replica of replicas) {
      expect((await send(replica.url, '/before', as(ip))).status).toBe(200);
    }
    const added = await send(replicas[0]?.url ?? '', '/admin/blacklist', admin({ ip }));
    expect(added.status).toBeLessThan(300);
    const started = Date.now();
    const statusOn = async (r: GatewayProcess) => (await send(r.url, '/after', as(ip))).status;
    for (const replica of replicas.slice(1)) {
      // Pub/sub makes it milliseconds; the bound is generous for a loaded machine.
      for (let status = await statusOn(replica); status !== 403; status = await statusOn(replica)) {
        expect(Date.now() - started).toBeLessThan(5_000);
        await sleep(20);
      }
    }
    expect((await send(replicas[2]?.url ?? '', '/x', as('203.0.113.8'))).status).toBe(200);
  });

  it('should serve a route added through the admin API of one replica on the others', async () => {
    const ip = '203.0.113.20';
    for (const replica of replicas) {
      expect((await send(replica.url, '/late/x', as(ip))).text).not.toBe('late-upstream');
    }
    const added = await send(
      replicas[1]?.url ?? '',
      '/admin/routes',
      admin({ name: 'late', prefix: '/late', target_url: late.url, strip_prefix: true }),
    );
    expect(added.status).toBeLessThan(300);
    const started = Date.now();
    for (const replica of [replicas[0], replicas[2]] as GatewayProcess[]) {
      for (;;) {
        const reply = await send(replica.url, `/late/${Date.now()}`, as(ip));
        if (reply.text === 'late-upstream') {
          break;
        }
        expect(Date.now() - started).toBeLessThan(5_000);
        await sleep(20);
      }
    }
  });

  it('should answer from the shared cache on a replica that never saw the request', async () => {
    const ip = '203.0.113.30';
    const path = '/cached/item?v=1';
    const first = await send(replicas[0]?.url ?? '', path, as(ip));
    expect(first.status).toBe(200);
    expect(first.headers['x-cache']).toBe('MISS');
    const before = upstream.requests.length;
    // The store write is asynchronous: retry briefly until the other replica hits.
    let second = await send(replicas[1]?.url ?? '', path, as(ip));
    for (let i = 0; i < 50 && second.headers['x-cache'] !== 'HIT'; i++) {
      await sleep(20);
      second = await send(replicas[1]?.url ?? '', path, as(ip));
    }
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.text).toBe(first.text);
    const third = await send(replicas[2]?.url ?? '', path, as(ip));
    expect(third.headers['x-cache']).toBe('HIT');
    expect(upstream.requests.length).toBe(before);
  });

  it('should keep serving when Redis dies (fail-open), and share the budget again once it is back', async () => {
    const port = redis.port;
    await killRedisServer(redis);

    // Traffic keeps flowing: each replica falls back to its own in-memory buckets, which are
    // fresh (full), so nothing is refused and nothing fails.
    const during = await spread(30, 'outage');
    expect(during.statuses).toEqual(Array<number>(30).fill(200));
    await waitFor(() => replicas.every((r) => r.stdout().includes('Redis unavailable')), 10_000);
    for (const replica of replicas) {
      // Logged once per outage, not per request.
      expect(replica.stdout().split('Redis unavailable').length - 1).toBe(1);
    }

    // Same address, empty data: the replicas reconnect by themselves.
    redis = await startRedisServer(port);
    await waitFor(
      () => replicas.every((r) => r.stdout().includes('Redis available again')),
      20_000,
      100,
    );
    await sleep(200);
    // The fresh Redis holds a full bucket again; the three replicas share it, as before.
    expectSharedBudget(await spread(BURST * 2, 'after'));
  });
});
