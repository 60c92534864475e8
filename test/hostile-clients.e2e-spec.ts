import { createHash } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { startGateway, testConfig, type TestGateway } from './fixtures/gateway';
import { rawExchange, send, sleep, waitFor } from './fixtures/http';
import { testAuthConfig } from './fixtures/jwt';
import { startUpstream, type TestUpstream } from './fixtures/upstream';

const API_KEY = 'hostile-suite-key-0123456789';
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('hostile and broken clients and upstreams (e2e)', () => {
  let up: TestUpstream;
  let big: TestUpstream;
  let oddReason: Server;
  let oddPort: number;
  let gw: TestGateway;
  let bigClosed = 0;

  beforeAll(async () => {
    up = await startUpstream();
    big = await startUpstream(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(64 * 1024);
        const pump = (): void => {
          while (res.write(chunk)) {
            // keep writing until the socket pushes back
          }
          res.once('drain', pump);
        };
        res.on('close', () => bigClosed++);
        pump();
      },
      { streaming: true },
    );
    // Answers with a legal but non-ASCII (obs-text) reason phrase.
    oddReason = createServer();
    oddReason.on('connection', (socket) => {
      socket.once('data', () =>
        socket.end(Buffer.from('HTTP/1.1 200 Caf\xe9\r\ncontent-length: 2\r\n\r\nok', 'latin1')),
      );
    });
    await new Promise<void>((r) => oddReason.listen(0, '127.0.0.1', r));
    oddPort = (oddReason.address() as AddressInfo).port;
    const base = testConfig([]);
    gw = await startGateway(
      testConfig(
        [
          { name: 'admin-api', prefix: '/admin-api', requireAuth: true, upstreams: [up.url] },
          { name: 'big', prefix: '/big', timeoutMs: 1000, upstreams: [big.url] },
          { name: 'odd', prefix: '/odd', upstreams: [`http://127.0.0.1:${oddPort}`] },
          {
            name: 'keyed',
            prefix: '/keyed',
            requireAuth: true,
            upstreams: [up.url],
            rateLimit: { rate: 100, burst: 100, key: 'api_key' },
          },
          { name: 'site', prefix: '/', timeoutMs: 1000, upstreams: [up.url] },
        ],
        {
          security: { ...base.security, maxRequestsPerSecond: 1, maxBurstSize: 40 },
          auth: testAuthConfig({ apiKeys: [{ hash: sha256(API_KEY), name: 'k' }] }),
        },
      ),
    );
  });

  afterAll(async () => {
    await gw.close();
    await Promise.all([up.close(), big.close()]);
    oddReason.closeAllConnections();
    await new Promise<void>((r) => oddReason.close(() => r()));
  });

  it('should route percent-encoded spellings by their decoded path (no auth bypass)', async () => {
    const before = up.requests.length;
    expect((await send(gw.url, '/%61dmin-api/users')).status).toBe(401);
    expect((await send(gw.url, '/admin%2Dapi/users')).status).toBe(401);
    expect(up.requests.length).toBe(before);
    expect((await send(gw.url, '/pub/..;/admin-api/users')).status).toBe(400);
  });

  it('should forward the canonical form of a path', async () => {
    await send(gw.url, '/s%69te/%7Euser');
    expect(up.requests.at(-1)?.url).toBe('/site/~user');
  });

  it('should answer 408 to a client that stalls its request body', async () => {
    const started = Date.now();
    const raw = await rawExchange(
      gw.port,
      'POST /slow-upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc',
      6000,
    );
    expect(raw).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('should cut a client that stops reading and release the upstream', async () => {
    const before = bigClosed;
    const socket = connect(gw.port, '127.0.0.1');
    socket.write('GET /big/stream HTTP/1.1\r\nHost: x\r\n\r\n');
    socket.pause(); // never read
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    await waitFor(() => bigClosed > before, 8000);
    socket.destroy();
    await closed;
  });

  it('should never switch to h2c: the offer is ignored, the request answered over HTTP/1.1, and HTTP/2 frames after it refused', async () => {
    const before = up.requests.length;
    const raw = await rawExchange(
      gw.port,
      'GET /x HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n' +
        'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n' +
        // What a client that believed the upgrade would send next: the HTTP/2 preface.
        'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
      3000,
    );
    expect(raw).toMatch(/^HTTP\/1\.1 200/);
    expect(raw).not.toContain('101 Switching Protocols');
    // Only the HTTP/1.1 request reached the upstream, without the offer.
    expect(up.requests.length).toBe(before + 1);
    const seen = up.requests[before];
    expect([seen.url, seen.headers.upgrade, seen.headers['http2-settings']]).toEqual([
      '/x',
      undefined,
      undefined,
    ]);
  });

  it('should relay a response whose reason phrase is not ASCII', async () => {
    const r = await send(gw.url, '/odd/x');
    expect(r.status).toBe(200);
    expect(r.text).toBe('ok');
  });

  it('should not send 100 Continue to a request it refuses', async () => {
    const raw = await rawExchange(
      gw.port,
      'POST /admin-api/upload HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1000000\r\n\r\n',
      3000,
    );
    expect(raw).not.toContain('100 Continue');
    expect(raw).toMatch(/^HTTP\/1\.1 401/);
    expect(raw.toLowerCase()).toContain('connection: close');
  });

  it('should send 100 Continue to an admitted upload', async () => {
    const result = await new Promise<{ continued: boolean; status: number }>((resolve, reject) => {
      let continued = false;
      const req = httpRequest({
        host: '127.0.0.1',
        port: gw.port,
        path: '/upload',
        method: 'POST',
        agent: false,
        headers: { expect: '100-continue', 'content-length': '5' },
      });
      req.on('continue', () => {
        continued = true;
        req.end('hello');
      });
      req.on('response', (res) => {
        res.resume();
        resolve({ continued, status: res.statusCode ?? 0 });
      });
      req.on('error', reject);
    });
    expect(result).toEqual({ continued: true, status: 200 });
  });

  it('should charge failed logins to the per-IP bucket even on identity-keyed routes', async () => {
    await sleep(1000);
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) {
      statuses.push(
        (await send(gw.url, '/keyed/x', { headers: { 'x-api-key': `wrong-key-${i}-000000000` } }))
          .status,
      );
    }
    expect(statuses).toContain(401);
    expect(statuses).toContain(429);
  });
});
