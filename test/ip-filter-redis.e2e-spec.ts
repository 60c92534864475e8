import { randomInt } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { RedisService } from '../src/redis/redis.service';
import { IpFilterService } from '../src/security/ip-filter/ip-filter.service';

/**
 * Flood counters and blocks shared through a real Redis by IpFilterService instances standing
 * for gateway replicas. The request path reads only local caches, so each assertion waits for
 * pub/sub or a resync to deliver.
 */

function sharedUrl(): string {
  const url = process.env.TEST_REDIS_URL;
  if (url === undefined) {
    throw new Error('TEST_REDIS_URL is not set: run with test/jest-e2e.config.js (globalSetup)');
  }
  return url;
}

const redisClients: RedisService[] = [];
const filters: IpFilterService[] = [];

async function replica(threshold = 5, ipv6Prefix?: number): Promise<IpFilterService> {
  // These tests are about sharing, not about Redis stalls: a loaded CI machine can take over
  // the production 100 ms command timeout, which would (correctly) fall back to local counting.
  const redis = new RedisService({ url: sharedUrl(), commandTimeoutMs: 2_000 });
  redisClients.push(redis);
  await waitFor(() => redis.isReady, 5_000, 'Redis connection');
  const filter = new IpFilterService(
    { allow: [], deny: [], threshold, blockDurationMs: 60_000, ipv6Prefix },
    redis,
  );
  filter.onModuleInit();
  filters.push(filter);
  return filter;
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A documentation-range address unique to this run, so reruns never see old state. */
function testIp(): string {
  return `198.51.${randomInt(0, 256)}.${randomInt(1, 255)}`;
}

beforeEach(() => {
  jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
});

afterEach(async () => {
  jest.restoreAllMocks();
  for (const filter of filters.splice(0)) {
    filter.onModuleDestroy();
  }
  await Promise.all(redisClients.splice(0).map((redis) => redis.onApplicationShutdown()));
});

describe('flood blocking with Redis shared by replicas', () => {
  it('should count an IPv6 network across replicas and share its block, and its lifting', async () => {
    const a = await replica(5, 64);
    const b = await replica(5, 64);
    const net = `2001:db8:${randomInt(1, 0xffff).toString(16)}:${randomInt(1, 0xffff).toString(16)}`;

    // Six addresses of one /64, three seen by each replica.
    for (let i = 1; i <= 3; i++) {
      a.record(`${net}::${i}`);
      b.record(`${net}::${i + 3}`);
    }

    const probe = `${net}:ffff::1`;
    await waitFor(() => a.check(probe).blocked && b.check(probe).blocked, 5_000, 'the block');
    expect(b.listBlocked().map((block) => block.ip)).toContain(`${net}::/64`);
    expect(a.unblock(`${net}::42`)).toBe(true);
    await waitFor(() => !b.check(probe).blocked, 5_000, 'the unblock to spread');
  });

  it('should count requests from one IP across replicas and block it on all of them', async () => {
    const a = await replica();
    const b = await replica();
    const ip = testIp();

    // 3 + 3 = 6 > 5, although neither replica alone saw more than the threshold.
    for (let i = 0; i < 3; i++) {
      a.record(ip);
      b.record(ip);
    }

    await waitFor(() => a.check(ip).blocked && b.check(ip).blocked, 5_000, 'the block to spread');
    expect(a.check(ip).retryAfterSeconds).toBeGreaterThan(55);
    expect(a.blockedIpsTotal + b.blockedIpsTotal).toBe(1);
  });

  it('should give a replica that starts later the blocks already in force', async () => {
    const a = await replica();
    const ip = testIp();
    a.block(ip, 30_000);

    const late = await replica();

    await waitFor(() => late.check(ip).blocked, 2_000, 'the resync');
    expect(late.listBlocked().find((block) => block.ip === ip)).toMatchObject({
      reason: 'manual',
    });
  });

  it('should lift a block on every replica', async () => {
    const a = await replica();
    const b = await replica();
    const ip = testIp();
    a.block(ip);
    await waitFor(() => b.check(ip).blocked, 2_000, 'the block to spread');

    b.unblock(ip);

    await waitFor(() => !a.check(ip).blocked, 2_000, 'the unblock to spread');
  });
});
