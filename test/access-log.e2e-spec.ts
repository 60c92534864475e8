import { send } from './fixtures/http';
import { startGateway, testConfig, type TestGateway } from './fixtures/gateway';
import { freePort } from './fixtures/process';
import { startUpstream, type TestUpstream } from './fixtures/upstream';
import type { GatewayConfig } from '../src/config/gateway-config.types';

/** The access line of the request sent with this x-request-id. */
function lineOf(gw: TestGateway, requestId: string): Record<string, unknown> {
  const line = gw.logs.find((l) => l.msg === 'request completed' && l.requestId === requestId);
  if (!line) {
    throw new Error(`no access line for ${requestId}`);
  }
  return line;
}

/** The log settings of the defaults with some replaced. */
function withLog(log: Partial<GatewayConfig['log']>): Partial<GatewayConfig> {
  return { log: { ...testConfig([]).log, ...log } };
}

describe('access-log fields (e2e)', () => {
  let upstream: TestUpstream;

  beforeAll(async () => {
    upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  afterAll(() => upstream.close());

  it('should log the query with credentials masked, user agent, referer, attempts and upstream latency', async () => {
    const gw = await startGateway(testConfig([{ upstreams: [upstream.url] }]));
    try {
      const r = await send(gw.url, '/items?page=2&api_key=s3cr3t&Token=abc&q=a+b', {
        headers: {
          'x-request-id': 'fields-1',
          'user-agent': 'curl/8.5.0 "quoted"',
          referer: 'https://app.example.com/list?access_token=t0k&tab=2',
        },
      });
      expect(r.status).toBe(200);
      // The upstream still gets the query as sent: masking is for the log only.
      expect(upstream.requests.at(-1)?.url).toBe('/items?page=2&api_key=s3cr3t&Token=abc&q=a+b');
      const line = lineOf(gw, 'fields-1');
      expect(line).toMatchObject({
        path: '/items',
        query: 'page=2&api_key=[REDACTED]&Token=[REDACTED]&q=a+b',
        userAgent: 'curl/8.5.0 "quoted"',
        referer: 'https://app.example.com/list?access_token=[REDACTED]&tab=2',
        attempts: 1,
        status: 200,
      });
      expect(line).not.toHaveProperty('cacheStatus');
      expect(typeof line.upstreamLatencyMs).toBe('number');
      expect(line.upstreamLatencyMs as number).toBeGreaterThan(0);
      expect(line.upstreamLatencyMs as number).toBeLessThanOrEqual(line.durationMs as number);
      expect(JSON.stringify(gw.logs)).not.toMatch(/s3cr3t|t0k|Token=abc/);
    } finally {
      await gw.close();
    }
  });

  it('should count every attempt when a retry moved the request to another upstream', async () => {
    const refused = await freePort();
    const gw = await startGateway(
      testConfig([{ upstreams: [`http://127.0.0.1:${refused}`, upstream.url] }]),
    );
    try {
      for (let i = 0; i < 4; i++) {
        expect(
          (await send(gw.url, '/r', { headers: { 'x-request-id': `retry-${i}` } })).status,
        ).toBe(200);
      }
      const lines = [0, 1, 2, 3].map((i) => lineOf(gw, `retry-${i}`));
      // Each request either went to the live upstream at once or was retried there.
      for (const line of lines) {
        expect([1, 2]).toContain(line.attempts);
        expect(line.upstream).toBe(`${upstream.url}/`);
      }
      expect(lines.some((l) => l.attempts === 2)).toBe(true);
    } finally {
      await gw.close();
    }
  });

  it('should log the cache verdict, and no upstream latency when the cache answered', async () => {
    const gw = await startGateway(
      testConfig([{ upstreams: [upstream.url], cache: { enabled: true, allowSetCookie: false } }], {
        cache: { ...testConfig([]).cache, enabled: true, ttlMs: 60_000, ttlExplicit: true },
      }),
    );
    try {
      await send(gw.url, '/cached', { headers: { 'x-request-id': 'cache-1' } });
      await send(gw.url, '/cached', { headers: { 'x-request-id': 'cache-2' } });
      expect(lineOf(gw, 'cache-1')).toMatchObject({ cacheStatus: 'MISS', attempts: 1 });
      const hit = lineOf(gw, 'cache-2');
      expect(hit).toMatchObject({ cacheStatus: 'HIT', attempts: 0, status: 200 });
      expect(hit).not.toHaveProperty('upstreamLatencyMs');
      expect(hit).not.toHaveProperty('upstream');
    } finally {
      await gw.close();
    }
  });

  it('should log no attempt for a request no route takes', async () => {
    const gw = await startGateway(testConfig([{ prefix: '/api', upstreams: [upstream.url] }]));
    try {
      await send(gw.url, '/nowhere?token=x', { headers: { 'x-request-id': 'noroute-1' } });
      const line = lineOf(gw, 'noroute-1');
      expect(line).toMatchObject({ status: 404, attempts: 0, query: 'token=[REDACTED]' });
      expect(line).not.toHaveProperty('upstreamLatencyMs');
    } finally {
      await gw.close();
    }
  });

  it('should write only the fields ACCESS_LOG_FIELDS names, and mask only the parameters named', async () => {
    const gw = await startGateway(
      testConfig(
        [{ upstreams: [upstream.url] }],
        withLog({
          accessLogFields: ['requestId', 'query', 'status'],
          accessLogRedactParams: ['ticket'],
        }),
      ),
    );
    try {
      await send(gw.url, '/few?ticket=t1&token=visible', {
        headers: { 'x-request-id': 'few-1', 'user-agent': 'ua' },
      });
      const line = lineOf(gw, 'few-1');
      expect(Object.keys(line)).toEqual(['level', 'time', 'requestId', 'query', 'status', 'msg']);
      expect(line.query).toBe('ticket=[REDACTED]&token=visible');
    } finally {
      await gw.close();
    }
  });

  it('should mask nothing with an empty redaction list (ACCESS_LOG_REDACT_PARAMS=none)', async () => {
    const gw = await startGateway(
      testConfig([{ upstreams: [upstream.url] }], withLog({ accessLogRedactParams: [] })),
    );
    try {
      await send(gw.url, '/open?token=abc', { headers: { 'x-request-id': 'open-1' } });
      expect(lineOf(gw, 'open-1').query).toBe('token=abc');
    } finally {
      await gw.close();
    }
  });
});
