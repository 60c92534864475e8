import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { sleep } from '../fixtures/http';
import { spawnGateway, type GatewayProcess } from '../fixtures/process';
import { startUpstream, type TestUpstream } from '../fixtures/upstream';
import {
  freePort,
  killRedisServer,
  startRedisServer,
  type RedisServerHandle,
} from '../support/redis-server';
import { REDIS_API_KEYS } from '../../src/security/auth/redis-api-key-store';
import { attempt, burst, type Outcome } from './support/client';

/**
 * Two gateway replicas sharing a redis-server this suite owns, so it can be absent at start,
 * killed mid-traffic, stalled with DEBUG SLEEP and restarted. Limits fail open (local buckets)
 * while Redis is gone, and the shared budget comes back once it returns.
 */

const BURST = 20;
const KEY = 'reliability-redis-key-0123456789';
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Sends one Redis command over a raw socket (inline protocol) and returns the first reply. */
function redisCommand(port: number, command: string, waitReply = true): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(10_000, () => {
      socket.destroy();
      reject(new Error(`redis command timed out: ${command}`));
    });
    socket.on('error', reject);
    socket.on('connect', () => {
      socket.write(`${command}\r\n`);
      if (!waitReply) {
        // Leave the connection open (closing it does not cancel a DEBUG SLEEP anyway).
        setTimeout(() => {
          socket.destroy();
          resolve('');
        }, 50);
      }
    });
    socket.on('data', (d) => {
      socket.destroy();
      resolve(d.toString());
    });
  });
}

describe('Redis faults under traffic (reliability)', () => {
  let up: TestUpstream;
  let redisPort: number;
  let redis: RedisServerHandle | undefined;
  let a: GatewayProcess;
  let b: GatewayProcess;
  let ipSeq = 0;
  /** A client address no earlier phase used, so each phase starts with a full bucket. */
  const freshIp = (): string => {
    ipSeq++;
    return `10.${(ipSeq >> 16) & 255}.${(ipSeq >> 8) & 255}.${ipSeq & 255}`;
  };
  const get = (gw: GatewayProcess, path: string, ip: string, extra: Record<string, string> = {}) =>
    attempt(gw.url, path, { headers: { 'x-forwarded-for': ip, ...extra }, timeoutMs: 5000 });

  /** 40 requests from one client spread over both replicas: how many got through. */
  async function sharedPasses(): Promise<number> {
    const ip = freshIp();
    let passed = 0;
    for (let i = 0; i < 2 * BURST; i++) {
      const r = await get(i % 2 ? a : b, `/open/shared-${i}`, ip);
      expect([200, 429]).toContain(r.status);
      passed += r.status === 200 ? 1 : 0;
    }
    return passed;
  }

  /** Waits (bounded) until both replicas share one bucket again. */
  async function expectConverged(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let passed = await sharedPasses();
    while (passed > BURST + 2 && Date.now() < deadline) {
      await sleep(250);
      passed = await sharedPasses();
    }
    expect(passed).toBeGreaterThanOrEqual(BURST);
    expect(passed).toBeLessThanOrEqual(BURST + 2);
  }

  const expectFlowing = (outcomes: Outcome[]): void => {
    expect(outcomes.filter((o) => o.result !== 'complete')).toEqual([]);
    expect(outcomes.filter((o) => o.status !== 200).map((o) => o.status)).toEqual([]);
  };

  beforeAll(async () => {
    up = await startUpstream();
    redisPort = await freePort();
    const env = {
      SERVICE_ROUTES: JSON.stringify([
        { name: 'open', prefix: '/open', target_url: up.url },
        { name: 'keyed', prefix: '/keyed', target_url: up.url, require_auth: true },
      ]),
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      TRUSTED_PROXIES: '127.0.0.1',
      MAX_REQUESTS_PER_SECOND: '1',
      MAX_BURST_SIZE: String(BURST),
      // Above what any one client address sends in the other phases (40 at most).
      DDOS_THRESHOLD: '60',
      LOG_LEVEL: 'warn',
    };
    // Redis is down at start: both replicas must still boot and serve.
    [a, b] = await Promise.all([spawnGateway(env), spawnGateway(env)]);
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await up.close();
    if (redis) {
      await killRedisServer(redis);
    }
  });

  it('should boot and serve with Redis down at start (limits fail open to local buckets)', async () => {
    const out = await burst(20, 4, (i) => get(i % 2 ? a : b, `/open/down-${i}`, freshIp()));
    expectFlowing(out);
    // Redis-held API keys fail closed while Redis is unreachable, promptly.
    const keyed = await get(a, '/keyed/x', freshIp(), { 'x-api-key': KEY });
    expect(keyed.status).toBe(401);
    expect(keyed.ms).toBeLessThan(2000);
  });

  it('should converge on the shared budget and shared keys once Redis comes up', async () => {
    redis = await startRedisServer(redisPort, ['--enable-debug-command', 'yes']);
    await redisCommand(redisPort, `HSET ${REDIS_API_KEYS} ${sha256(KEY)} "{\\"name\\":\\"rel\\"}"`);
    await expectConverged();
    // The miss cached while Redis was down expires (5 s); then the shared key is honoured.
    const deadline = Date.now() + 15_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await get(b, '/keyed/x', freshIp(), { 'x-api-key': KEY })).status;
      if (status === 200) {
        break;
      }
      expect(status).toBe(401);
      await sleep(250);
    }
    expect(status).toBe(200);
  });

  it('should keep traffic flowing when Redis is killed mid-traffic', async () => {
    let killed = false;
    const out = await burst(300, 10, async (i) => {
      if (i === 100 && redis) {
        killed = true;
        await killRedisServer(redis, false);
      }
      return get(i % 2 ? a : b, `/open/kill-${i}`, freshIp());
    });
    expect(killed).toBe(true);
    expectFlowing(out);
    expect(Math.max(...out.map((o) => o.ms))).toBeLessThan(3000);
  });

  it('should reconverge after a Redis restart', async () => {
    redis = await startRedisServer(redisPort, ['--enable-debug-command', 'yes']);
    await expectConverged();
  });

  it('should not stall requests while Redis is slow (DEBUG SLEEP), then reconverge', async () => {
    await redisCommand(redisPort, 'DEBUG SLEEP 3', false);
    const started = Date.now();
    const out: Outcome[] = [];
    while (Date.now() - started < 2500) {
      out.push(await get(out.length % 2 ? a : b, `/open/slow-${out.length}`, freshIp()));
    }
    expectFlowing(out);
    // Redis commands time out at 100 ms; nothing waits for the 3 s sleep.
    expect(Math.max(...out.map((o) => o.ms))).toBeLessThan(1500);
    expect(out.length).toBeGreaterThan(5);
    await sleep(1000);
    await expectConverged();
  });

  it('should share flood blocks between replicas again after the outages', async () => {
    const ip = freshIp();
    for (let i = 0; i < 70; i++) {
      await get(a, `/open/flood-${i}`, ip);
    }
    const onA = await get(a, '/open/flood-check', ip);
    expect(onA.status).toBe(429);
    expect(JSON.parse(onA.body)).toMatchObject({
      message: expect.stringContaining('blocked') as string,
    });
    // B never saw this client flood: the block reached it through Redis.
    const deadline = Date.now() + 5000;
    let onB = await get(b, '/open/flood-check', ip);
    while (!onB.body.includes('blocked') && Date.now() < deadline) {
      await sleep(100);
      onB = await get(b, '/open/flood-check', ip);
    }
    expect(onB.status).toBe(429);
    expect(JSON.parse(onB.body)).toMatchObject({
      message: expect.stringContaining('blocked') as string,
    });
  });
});
