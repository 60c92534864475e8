import { startRedisServer } from './support/redis-server';

/**
 * Jest globalSetup for the e2e suites: one real redis-server on a free loopback port, shared by
 * the Redis suites through `TEST_REDIS_URL` (workers inherit the environment). Nothing mocks
 * Redis in these suites. Suites that need their own server (to kill it) start one themselves.
 */
export default async function globalSetup(): Promise<void> {
  const redis = await startRedisServer();
  process.env.TEST_REDIS_URL = redis.url;
  // Read back by global-teardown.ts, which runs in the same context.
  (globalThis as { __GATEWAY_TEST_REDIS__?: { pid: number; dir: string } }).__GATEWAY_TEST_REDIS__ =
    { pid: redis.pid, dir: redis.dir };
}
