import { send } from './fixtures/http';
import { spawnGateway, type GatewayProcess } from './fixtures/process';
import { startUpstream, type TestUpstream } from './fixtures/upstream';

/**
 * Two gateway processes, one real redis-server (jest globalSetup): a client that spreads its
 * requests over both replicas still gets the single configured budget.
 */
describe('replicas sharing one Redis (e2e)', () => {
  let up: TestUpstream;
  let a: GatewayProcess;
  let b: GatewayProcess;

  beforeAll(async () => {
    const redisUrl = process.env.TEST_REDIS_URL;
    if (!redisUrl) {
      throw new Error('TEST_REDIS_URL is not set: the e2e globalSetup starts redis-server');
    }
    up = await startUpstream();
    const env = {
      SERVICE_ROUTES: JSON.stringify([{ name: 'app', prefix: '/', target_url: up.url }]),
      REDIS_URL: redisUrl,
      // A rate so low that refill during the test is negligible: the burst is the budget.
      MAX_REQUESTS_PER_SECOND: '1',
      MAX_BURST_SIZE: '20',
      LOG_LEVEL: 'warn',
    };
    [a, b] = await Promise.all([spawnGateway(env), spawnGateway(env)]);
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await up.close();
  });

  it('should enforce one bucket across both replicas', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const r = await send(i % 2 ? a.url : b.url, `/shared?i=${i}`, {
        headers: { 'x-request-id': `shared-${i}` },
      });
      statuses.push(r.status);
    }
    const passed = statuses.filter((s) => s === 200).length;
    // 20 from the burst, plus at most a token or two refilled while the loop ran.
    expect(passed).toBeGreaterThanOrEqual(20);
    expect(passed).toBeLessThanOrEqual(22);
    expect(statuses.filter((s) => s === 429).length).toBe(40 - passed);
  });
});
