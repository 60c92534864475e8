import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import type { GatewayConfig } from '../src/config/gateway-config.types';
import { ProxyService } from '../src/proxy/proxy.service';
import { UpgradeProxyService } from '../src/proxy/upgrade-proxy.service';
import { startGateway, testConfig, type TestGateway } from './fixtures/gateway';
import { sleep, waitFor } from './fixtures/http';

/*
 * Every open WebSocket holds a MAX_IN_FLIGHT slot. Without a cap per client and an idle
 * timeout, one client could open sockets until the gateway answers everyone 503, and keep them
 * forever by saying nothing.
 */

interface Opened {
  ws?: WebSocket;
  status: number;
  body: string;
}

/** Opens a WebSocket from `localAddress`; resolves with the socket, or the refusal's status. */
function open(gw: TestGateway, localAddress = '127.0.0.1'): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${gw.url.replace('http', 'ws')}/ws`, { localAddress });
    ws.once('open', () => resolve({ ws, status: 101, body: '' }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', reject);
  });
}

/** Resolves when the socket closes; fails the case after `timeoutMs`. */
const closed = (ws: WebSocket, timeoutMs = 5_000): Promise<number> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('socket still open')), timeoutMs);
    ws.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });

describe('WebSocket slots: a cap per client and an idle timeout (e2e)', () => {
  let wss: WebSocketServer;
  let wsUrl: string;
  const gateways: TestGateway[] = [];

  beforeAll(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((resolve) => wss.once('listening', resolve));
    wss.on('connection', (socket) => socket.on('message', (m) => socket.send(m)));
    wsUrl = `http://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const gw of gateways) {
      await gw.close();
    }
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });

  async function gateway(proxy: Partial<GatewayConfig['proxy']>): Promise<TestGateway> {
    const base = testConfig([]);
    const gw = await startGateway(
      testConfig([{ name: 'ws', prefix: '/ws', upstreams: [wsUrl] }], {
        proxy: { ...base.proxy, ...proxy },
      }),
    );
    gateways.push(gw);
    return gw;
  }

  it('should refuse a client its next WebSocket with 429 once it holds WEBSOCKET_MAX_PER_IP', async () => {
    const gw = await gateway({ websocketMaxPerIp: 2 });
    const first = await open(gw);
    const second = await open(gw);
    expect([first.status, second.status]).toEqual([101, 101]);

    const third = await open(gw);
    expect(third.status).toBe(429);
    expect(JSON.parse(third.body)).toMatchObject({
      statusCode: 429,
      message: 'Too many open WebSocket connections from this client',
    });
    // Another client is not affected.
    const other = await open(gw, '127.0.0.2');
    expect(other.status).toBe(101);

    // A closed socket frees its place.
    const gone = closed(first.ws!);
    first.ws!.close();
    await gone;
    const upstream = gw.gateway.app.get(UpgradeProxyService);
    await waitFor(() => upstream.openFor('127.0.0.1') === 1);
    const again = await open(gw);
    expect(again.status).toBe(101);

    for (const s of [second, other, again]) {
      s.ws!.close();
    }
    await waitFor(() => upstream.openFor('127.0.0.1') === 0 && upstream.openFor('127.0.0.2') === 0);
    await waitFor(() => gw.gateway.app.get(ProxyService).activeRequests === 0);
  });

  it('should close a WebSocket silent in both directions for WEBSOCKET_IDLE_TIMEOUT, not a talking one', async () => {
    const gw = await gateway({ websocketIdleTimeoutMs: 600 });
    const silent = (await open(gw)).ws!;
    const talking = (await open(gw, '127.0.0.3')).ws!;
    const started = Date.now();
    const silentClosedAt = closed(silent).then(() => Date.now());
    let talkingOpen = true;
    void closed(talking).then(() => (talkingOpen = false));
    // Bounded: 12 messages, one every 200 ms, each echoed by the upstream.
    for (let i = 0; i < 12; i++) {
      talking.send(`ping ${i}`);
      await sleep(200);
    }
    // 600 ms of silence, give or take a busy machine; well before the talking one stops.
    expect((await silentClosedAt) - started).toBeLessThan(2_000);
    expect(talkingOpen).toBe(true);
    // Once it stops talking, it is closed too.
    await closed(talking);
    expect(gw.logs.filter((l) => l.error === 'websocket idle timeout')).toHaveLength(2);
    await waitFor(() => gw.gateway.app.get(ProxyService).activeRequests === 0);
  });
});
