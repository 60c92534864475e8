import { Agent, request } from 'node:http';
import { startGateway, testConfig, type TestGateway } from './fixtures/gateway';
import { send, sleep } from './fixtures/http';
import { startUpstream, type TestUpstream } from './fixtures/upstream';

/** One request on a keep-alive agent: the status, with the body read to the end. */
function get(agent: Agent, url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('Defaults never lock out a client inside its rate limit (e2e)', () => {
  let up: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    up = await startUpstream();
    // The loader's defaults for every limit: MAX_REQUESTS_PER_SECOND, MAX_BURST_SIZE,
    // DDOS_THRESHOLD (derived), BLOCK_DURATION, TRUSTED_PROXIES empty.
    gw = await startGateway(testConfig([{ prefix: '/', upstreams: [up.url] }]));
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  it('should serve a client steady at 50 requests a second for 24 s without a single 429', async () => {
    // The former default (DDOS_THRESHOLD=1000 a minute) blocked this client for 10 minutes
    // after 20 s; the loop is bounded at 1,200 requests.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const statuses = new Map<number, number>();
    const started = Date.now();
    try {
      for (let i = 0; i < 1200; i++) {
        const due = started + i * 20;
        const wait = due - Date.now();
        if (wait > 0) {
          await sleep(wait);
        }
        const status = await get(agent, `${gw.url}/steady/${i}`);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status !== 200) {
          break;
        }
      }
    } finally {
      agent.destroy();
    }

    expect(Object.fromEntries(statuses)).toEqual({ 200: 1200 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(23_900);
    expect(up.requests).toHaveLength(1200);
    expect(gw.logs.filter((l) => String(l.msg).includes('blocked'))).toEqual([]);
  }, 60_000);

  it('should say once, with the fix, that X-Forwarded-For arrives from a private peer while TRUSTED_PROXIES is empty', async () => {
    for (let i = 0; i < 3; i++) {
      expect(
        (await send(gw.url, '/xff', { headers: { 'x-forwarded-for': `198.51.100.${i}` } })).status,
      ).toBe(200);
    }

    const hints = gw.logs.filter((l) => String(l.msg).includes('TRUSTED_PROXIES is empty'));
    expect(hints).toHaveLength(1);
    expect(hints[0]).toMatchObject({ level: 40 });
    expect(String(hints[0].msg)).toContain('TRUSTED_PROXIES=127.0.0.0/8');
    // The forwarded address was not believed.
    expect(up.requests.at(-1)?.headers['x-real-ip']).toBe('127.0.0.1');
  });
});
