import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway, testConfig, type TestGateway } from './fixtures/gateway';
import { rawExchange, send } from './fixtures/http';
import { startUpstream, type TestUpstream } from './fixtures/upstream';

/** A port that was just free: connecting to it is refused. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('error table (e2e)', () => {
  let slow: TestUpstream;
  let garbage: Server;
  let garbagePort: number;
  let gw: TestGateway;

  beforeAll(async () => {
    slow = await startUpstream((_req, res) => {
      setTimeout(() => res.end('late'), 2000);
    });
    // Answers with something that is not HTTP.
    garbage = createServer();
    garbage.on('connection', (socket) => {
      socket.once('data', () => socket.end('NOT-HTTP garbage\r\n\r\n'));
    });
    await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', r));
    garbagePort = (garbage.address() as AddressInfo).port;
    const refused = await closedPort();
    gw = await startGateway(
      testConfig(
        [
          { name: 'refused', prefix: '/refused', upstreams: [`http://127.0.0.1:${refused}`] },
          { name: 'slow', prefix: '/slow', timeoutMs: 300, upstreams: [slow.url] },
          { name: 'garbage', prefix: '/garbage', upstreams: [`http://127.0.0.1:${garbagePort}`] },
        ],
        {
          // The error table is under test here, not the breaker (resilience suite): keep it closed.
          resilience: { ...testConfig([]).resilience, circuitBreakerMax: 1000 },
        },
      ),
    );
  });

  afterAll(async () => {
    await gw.close();
    await slow.close();
    garbage.closeAllConnections();
    await new Promise<void>((r) => garbage.close(() => r()));
  });

  const expectError = (
    r: Awaited<ReturnType<typeof send>>,
    status: number,
    error: string,
  ): void => {
    expect(r.status).toBe(status);
    expect(r.headers['content-type']).toContain('application/json');
    const body = r.json();
    expect(body).toEqual({
      statusCode: status,
      error,
      message: expect.any(String) as string,
      requestId: r.headers['x-request-id'],
    });
    // No internals: no addresses, ports or error codes in what the client sees.
    expect(r.text).not.toMatch(/127\.0\.0\.1|ECONN|UND_ERR|localhost/);
  };

  it('should map a refused connection to 502', async () => {
    expectError(await send(gw.url, '/refused/x'), 502, 'Bad Gateway');
  });

  it('should map a route timeout to 504', async () => {
    const started = Date.now();
    const r = await send(gw.url, '/slow');
    expectError(r, 504, 'Gateway Timeout');
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('should map a malformed upstream response to 502', async () => {
    expectError(await send(gw.url, '/garbage'), 502, 'Bad Gateway');
  });

  it('should map no route to 404 and a bad path to 400', async () => {
    expectError(await send(gw.url, '/unknown'), 404, 'Not Found');
    expectError(await send(gw.url, '/refused/..%2f..%2fetc'), 400, 'Bad Request');
  });

  it('should log one access line per request with the documented fields', async () => {
    await send(gw.url, '/refused/logged', { headers: { 'x-request-id': 'log-check-1' } });
    const line = gw.logs.find((l) => l.requestId === 'log-check-1');
    expect(line).toMatchObject({
      msg: 'request completed',
      requestId: 'log-check-1',
      method: 'GET',
      path: '/refused/logged',
      route: 'refused',
      status: 502,
      clientIp: '127.0.0.1',
      bytesIn: 0,
    });
    expect(typeof line?.durationMs).toBe('number');
    expect(line?.upstream).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(line?.error).toBe('ECONNREFUSED');
  });

  it('should shed load with 503 and Retry-After beyond MAX_IN_FLIGHT', async () => {
    const tiny = await startGateway(
      testConfig([{ upstreams: [slow.url] }], {
        proxy: { ...testConfig([]).proxy, maxInFlight: 1 },
      }),
    );
    try {
      const first = send(tiny.url, '/first');
      await new Promise((r) => setTimeout(r, 200));
      const second = await send(tiny.url, '/second');
      expectError(second, 503, 'Service Unavailable');
      expect(second.headers['retry-after']).toBe('1');
      expect((await first).status).toBe(200);
      // The slot is released once the first request completes.
      expect((await send(tiny.url, '/third')).status).toBe(200);
    } finally {
      await tiny.close();
    }
  });

  it('should answer 408 JSON to a client that does not finish its request head in time', async () => {
    const quick = await startGateway(
      testConfig([{ upstreams: [slow.url] }], {
        server: { ...testConfig([]).server, headersTimeoutMs: 1000 },
      }),
    );
    try {
      const started = Date.now();
      const raw = await rawExchange(quick.port, 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: a', 8000);
      expect(raw).toMatch(/^HTTP\/1\.1 408/);
      expect(raw).toContain('"statusCode":408');
      expect(Date.now() - started).toBeLessThan(4000);
    } finally {
      await quick.close();
    }
  });

  it('should answer a request Node cannot parse with 400 JSON and keep running', async () => {
    const raw = await rawExchange(gw.port, 'GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1\.1 400/);
    expect((await send(gw.url, '/unknown')).status).toBe(404);
  });
});

describe('forwarding headers and TRUSTED_PROXIES (e2e)', () => {
  let up: TestUpstream;

  beforeAll(async () => {
    up = await startUpstream();
  });
  afterAll(() => up.close());

  const headersSeen = async (gw: TestGateway, headers: Record<string, string>) => {
    const r = await send(gw.url, '/x', { headers });
    return r.json<{ headers: Record<string, string> }>().headers;
  };

  it('should ignore client forwarding headers from an untrusted peer', async () => {
    const gw = await startGateway(testConfig([{ upstreams: [up.url] }]));
    try {
      const h = await headersSeen(gw, {
        host: 'public.example.com',
        'x-forwarded-for': '6.6.6.6',
        'x-forwarded-host': 'evil.example.com',
        'x-forwarded-proto': 'https',
        'x-real-ip': '6.6.6.6',
      });
      expect(h['x-forwarded-for']).toBe('127.0.0.1');
      expect(h['x-real-ip']).toBe('127.0.0.1');
      expect(h['x-forwarded-host']).toBe('public.example.com');
      expect(h['x-forwarded-proto']).toBe('http');
      const line = gw.logs.find((l) => l.msg === 'request completed');
      expect(line?.clientIp).toBe('127.0.0.1');
    } finally {
      await gw.close();
    }
  });

  it('should believe and extend the chain from a trusted proxy', async () => {
    const gw = await startGateway(
      testConfig([{ upstreams: [up.url] }], {
        proxy: { ...testConfig([]).proxy, trustedProxies: ['127.0.0.0/8'] },
      }),
    );
    try {
      const h = await headersSeen(gw, {
        host: 'public.example.com',
        'x-forwarded-for': '203.0.113.50',
        'x-forwarded-host': 'www.example.com',
        'x-forwarded-proto': 'https',
      });
      expect(h['x-forwarded-for']).toBe('203.0.113.50, 127.0.0.1');
      expect(h['x-real-ip']).toBe('203.0.113.50');
      expect(h['x-forwarded-host']).toBe('www.example.com');
      expect(h['x-forwarded-proto']).toBe('https');
      const line = gw.logs.find((l) => l.msg === 'request completed');
      expect(line?.clientIp).toBe('203.0.113.50');
    } finally {
      await gw.close();
    }
  });
});
