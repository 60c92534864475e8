import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { startGateway, testConfig, type TestGateway } from './fixtures/gateway';
import { send } from './fixtures/http';
import { startUpstream, type TestUpstream } from './fixtures/upstream';
import { REDIS_API_KEYS } from '../src/security/auth/redis-api-key-store';

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** API keys kept in Redis are shared by every replica; only their hashes are stored there. */
describe('API keys shared through Redis (e2e)', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  let redis: Redis;
  const key = `shared-key-${Date.now()}-0123456789`;

  beforeAll(async () => {
    const url = process.env.TEST_REDIS_URL;
    if (!url) {
      throw new Error('TEST_REDIS_URL is not set: the e2e globalSetup starts redis-server');
    }
    redis = new Redis(url);
    up = await startUpstream();
    gw = await startGateway(
      testConfig([{ name: 'private', prefix: '/', requireAuth: true, upstreams: [up.url] }], {
        redis: { url, sentinels: [], sentinelName: 'mymaster', clusterNodes: [] },
      }),
    );
  });

  afterAll(async () => {
    await gw.close();
    await up.close();
    await redis.hdel(REDIS_API_KEYS, sha256(key));
    await redis.quit();
  });

  it('should accept a key whose hash another replica stored in Redis, with its name', async () => {
    expect((await send(gw.url, '/x', { headers: { 'x-api-key': key } })).status).toBe(401);
    // The miss above is cached for 5 s; a key stored now is found by a different key's lookup…
    const fresh = `${key}-b`;
    await redis.hset(REDIS_API_KEYS, sha256(fresh), JSON.stringify({ name: 'shared-bot' }));
    const ok = await send(gw.url, '/x', { headers: { 'x-api-key': fresh } });
    expect(ok.status).toBe(200);
    const line = gw.logs.find((l) => l.requestId === ok.headers['x-request-id']);
    expect(line?.principal).toBe('shared-bot');
    await redis.hdel(REDIS_API_KEYS, sha256(fresh));
  });

  it('should treat a malformed Redis entry as no key', async () => {
    const odd = `${key}-odd`;
    await redis.hset(REDIS_API_KEYS, sha256(odd), 'not json');
    expect((await send(gw.url, '/x', { headers: { 'x-api-key': odd } })).status).toBe(401);
    await redis.hdel(REDIS_API_KEYS, sha256(odd));
  });
});
