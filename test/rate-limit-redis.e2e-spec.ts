import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { RedisService } from '../src/redis/redis.service';
import { MemoryBucketStore } from '../src/security/rate-limit/memory-bucket-store';
import { RedisBucketStore } from '../src/security/rate-limit/redis-bucket-store';
import type { RateDecision } from '../src/security/rate-limit/rate-limit-headers';
import { RateLimitService } from '../src/security/rate-limit/rate-limit.service';
import { killRedisServer, type RedisServerHandle, startRedisServer } from './support/redis-server';

/**
 * Token buckets in a real Redis: two RateLimitService instances stand for two gateway replicas
 * (each with its own connection, as separate processes would have). No mock stands in for Redis.
 */

function sharedUrl(): string {
  const url = process.env.TEST_REDIS_URL;
  if (url === undefined) {
    throw new Error('TEST_REDIS_URL is not set: run with test/jest-e2e.config.js (globalSetup)');
  }
  return url;
}

interface Replica {
  redis: RedisService;
  limiter: RateLimitService;
}

const open: RedisService[] = [];

async function replica(
  url: string,
  options: { rate?: number; burst?: number; failClosed?: boolean } = {},
): Promise<Replica> {
  const redis = new RedisService({ url, probeIntervalMs: 100 });
  open.push(redis);
  await waitFor(() => redis.isReady, 5_000, 'Redis connection');
  const store = new RedisBucketStore(redis, new MemoryBucketStore(), {
    failClosed: options.failClosed ?? false,
  });
  const limiter = new RateLimitService(store, {
    rate: options.rate ?? 100,
    burst: options.burst ?? 200,
  });
  return { redis, limiter };
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

afterEach(async () => {
  jest.restoreAllMocks();
  await Promise.all(open.splice(0).map((redis) => redis.onApplicationShutdown()));
});

describe('rate limiting with Redis shared by two replicas', () => {
  it('should enforce one bucket together: 200 at once across both, then the 201st is denied', async () => {
    const a = await replica(sharedUrl());
    const b = await replica(sharedUrl());
    const key = `ip:${randomUUID()}`;

    const started = Date.now();
    const decisions = await Promise.all(
      Array.from({ length: 260 }, (_, i) =>
        Promise.resolve((i % 2 === 0 ? a : b).limiter.consume(key)),
      ),
    );
    const elapsedMs = Date.now() - started;
    const allowed = decisions.filter((d) => d.allowed).length;

    // Exactly the burst, plus what refilled (100/s) while the requests were in flight.
    expect(allowed).toBeGreaterThanOrEqual(200);
    expect(allowed).toBeLessThanOrEqual(200 + Math.ceil((elapsedMs * 100) / 1000));
    const denied = decisions.find((d) => !d.allowed);
    expect(denied).toMatchObject({ limit: 200, remaining: 0, retryAfterSeconds: 1 });
  });

  it('should refill the shared bucket at the rate, whichever replica asks', async () => {
    const a = await replica(sharedUrl(), { rate: 2, burst: 4 });
    const b = await replica(sharedUrl(), { rate: 2, burst: 4 });
    const key = `ip:${randomUUID()}`;

    const first = await Promise.all(
      [a, b, a, b, a].map((r) => Promise.resolve(r.limiter.consume(key))),
    );
    // The two connections interleave in Redis in any order: which request loses is not fixed.
    expect(first.filter((d) => d.allowed)).toHaveLength(4);

    await new Promise((resolve) => setTimeout(resolve, 550)); // one token at 2/s
    expect((await b.limiter.consume(key)).allowed).toBe(true);
    expect((await a.limiter.consume(key)).allowed).toBe(false);
  });

  it('should run the script by SHA and let idle buckets expire in Redis', async () => {
    const a = await replica(sharedUrl(), { rate: 10, burst: 10 });
    const key = `ip:${randomUUID()}`;
    await a.limiter.consume(key);

    const client = a.redis.client as Redis;
    const ttl = await client.pttl(`gw:rl:${key}`);
    // One token used at 10/s: full again (and gone) within 100 ms.
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(100);
    const info = await client.info('commandstats');
    expect(info).toMatch(/cmdstat_evalsha:calls=\d+/);
  });
});

describe('rate limiting when Redis goes away', () => {
  let server: RedisServerHandle | undefined;

  afterEach(async () => {
    if (server !== undefined) {
      await killRedisServer(server);
      server = undefined;
    }
  });

  it('should keep answering from memory, log the outage once, and use Redis again when it is back', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    server = await startRedisServer();
    const port = server.port;
    const a = await replica(server.url, { rate: 1, burst: 3 });
    const key = `ip:${randomUUID()}`;
    const before = a.limiter.consume(key);
    expect(before).toBeInstanceOf(Promise);
    await before;

    await killRedisServer(server, false);
    await waitFor(() => !a.redis.isReady, 2_000, 'the outage to be noticed');
    const during: (RateDecision | Promise<RateDecision>)[] = [];
    const started = Date.now();
    for (let i = 0; i < 50; i++) {
      during.push(a.limiter.consume(key));
    }

    // Synchronous, local answers: no request waits on the dead Redis.
    expect(Date.now() - started).toBeLessThan(50);
    expect(during.every((d) => !(d instanceof Promise))).toBe(true);
    expect((during as RateDecision[]).filter((d) => d.allowed)).toHaveLength(3);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/^Redis unavailable/);

    const deadDir = server.dir;
    server = await startRedisServer(port);
    rmSync(deadDir, { recursive: true, force: true });
    await waitFor(() => a.redis.isReady, 10_000, 'the reconnect');
    expect(log.mock.calls.some(([message]) => /^Redis available again/.test(String(message)))).toBe(
      true,
    );
    const after = a.limiter.consume(key);
    expect(after).toBeInstanceOf(Promise);
    // A fresh Redis: the bucket starts full there (the script was re-sent after NOSCRIPT).
    await expect(after).resolves.toMatchObject({ allowed: true, remaining: 2 });
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('should stop waiting on a Redis that accepts connections but does not answer (DEBUG SLEEP)', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    server = await startRedisServer(undefined, ['--enable-debug-command', 'yes']);
    const a = await replica(server.url, { rate: 1, burst: 5 });
    const key = `ip:${randomUUID()}`;
    await a.limiter.consume(key);

    const sleeper = new Redis(server.url);
    const asleep = sleeper.call('DEBUG', 'SLEEP', '1.5');
    await new Promise((resolve) => setTimeout(resolve, 50));

    const started = Date.now();
    const timedOut = await a.limiter.consume(key);
    // The command timeout (100 ms) bounds the wait, and the answer came from memory.
    expect(Date.now() - started).toBeLessThan(400);
    expect(timedOut.allowed).toBe(true);
    expect(a.redis.isReady).toBe(false);
    const next = a.limiter.consume(key);
    expect(next).not.toBeInstanceOf(Promise);
    expect(warn).toHaveBeenCalledTimes(1);

    await asleep;
    await waitFor(() => a.redis.isReady, 5_000, 'the probe to see Redis answer again');
    expect(log.mock.calls.some(([message]) => /^Redis available again/.test(String(message)))).toBe(
      true,
    );
    // Back on the shared bucket: two tokens were taken there before the sleep and during it.
    await expect(a.limiter.consume(key)).resolves.toMatchObject({ allowed: true });
    expect(warn).toHaveBeenCalledTimes(1);
    await sleeper.quit();
  });

  it('should deny while Redis is down when RATE_LIMIT_FAIL_CLOSED is set', async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    server = await startRedisServer();
    const a = await replica(server.url, { failClosed: true });
    const key = `ip:${randomUUID()}`;
    await expect(a.limiter.consume(key)).resolves.toMatchObject({ allowed: true });

    await killRedisServer(server);
    server = undefined;
    await waitFor(() => !a.redis.isReady, 2_000, 'the outage to be noticed');

    expect(a.limiter.consume(key)).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
  });
});
