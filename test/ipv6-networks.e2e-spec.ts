import type { GatewayConfig } from '../src/config/gateway-config.types';
import { startGateway, testConfig, type TestGateway } from './fixtures/gateway';
import { send } from './fixtures/http';
import { startUpstream, type TestUpstream } from './fixtures/upstream';

/*
 * An IPv6 subscriber gets a whole /64 (often a /56 or /48) and can send every request from a new
 * address. Limits, flood counts and blocks are kept per network (RATE_LIMIT_IPV6_PREFIX, 64 by
 * default), as Cloudflare's and Envoy's guidance recommends. The clients here are told apart by
 * X-Forwarded-For from a trusted proxy (loopback holds a single IPv6 address), as behind a load
 * balancer.
 */

const TOKEN = 'ipv6-networks-admin-token-0123456789abcdef';
const AUTH = { authorization: `Bearer ${TOKEN}` };

describe('IPv6 clients are limited per network (e2e)', () => {
  let up: TestUpstream;
  const gateways: TestGateway[] = [];

  beforeAll(async () => {
    up = await startUpstream();
  });
  afterAll(async () => {
    for (const gw of gateways) {
      await gw.close();
    }
    await up.close();
  });

  async function gateway(security: Partial<GatewayConfig['security']>): Promise<TestGateway> {
    const base = testConfig([]);
    const gw = await startGateway(
      testConfig([{ name: 'api', prefix: '/', upstreams: [up.url] }], {
        admin: { token: TOKEN },
        proxy: { ...base.proxy, trustedProxies: ['127.0.0.1'] },
        security: { ...base.security, maxRequestsPerSecond: 0.01, maxBurstSize: 3, ...security },
      }),
    );
    gateways.push(gw);
    return gw;
  }

  const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });

  it('should give every address of one /64 one shared bucket, and another /64 its own', async () => {
    const gw = await gateway({});
    const statuses: number[] = [];
    for (let i = 1; i <= 5; i++) {
      statuses.push((await send(gw.url, '/x', from(`2001:db8:1:2::${i}`))).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect((await send(gw.url, '/x', from('2001:db8:1:2:ffff:ffff:ffff:fffe'))).status).toBe(429);
    expect((await send(gw.url, '/x', from('2001:db8:1:3::1'))).status).toBe(200);
    // IPv4 clients stay one per address.
    expect((await send(gw.url, '/x', from('198.51.100.1'))).status).toBe(200);
    expect((await send(gw.url, '/x', from('198.51.100.2'))).status).toBe(200);
  });

  it('should keep every address apart with RATE_LIMIT_IPV6_PREFIX=128', async () => {
    const gw = await gateway({ rateLimitIpv6Prefix: 128 });
    const statuses: number[] = [];
    for (let i = 1; i <= 5; i++) {
      statuses.push((await send(gw.url, '/x', from(`2001:db8:1:2::${i}`))).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
  });

  it('should aggregate at a shorter prefix when configured (/56)', async () => {
    const gw = await gateway({ rateLimitIpv6Prefix: 56 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await send(gw.url, '/x', from(`2001:db8:1:2${i}::1`))).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect((await send(gw.url, '/x', from('2001:db8:1:100::1'))).status).toBe(200);
  });

  it('should flood-block the whole network, list it, and lift it by any address inside', async () => {
    const gw = await gateway({ maxRequestsPerSecond: 1000, maxBurstSize: 1000, ddosThreshold: 10 });
    for (let i = 1; i <= 12; i++) {
      await send(gw.url, '/x', from(`2001:db8:9:9::${i.toString(16)}`));
    }
    const blocked = await send(gw.url, '/x', from('2001:db8:9:9:abcd::1'));
    expect(blocked.status).toBe(429);
    expect(blocked.headers['ratelimit-policy']).toMatch(/^"flood"/);
    // The gateway's own endpoints too, whatever address of the network asks.
    expect((await send(gw.url, '/health', from('2001:db8:9:9::77'))).status).toBe(429);
    expect((await send(gw.url, '/x', from('2001:db8:9:a::1'))).status).toBe(200);

    const listed = await send(gw.url, '/admin/blocks', { headers: AUTH });
    expect(listed.json<{ blocks: { ip: string; reason: string }[] }>().blocks).toEqual([
      expect.objectContaining({ ip: '2001:db8:9:9::/64', reason: 'flood' }),
    ]);
    const lifted = await send(gw.url, '/admin/blocks/2001:db8:9:9::1234', {
      method: 'DELETE',
      headers: AUTH,
    });
    expect(lifted.status).toBe(200);
    expect((await send(gw.url, '/x', from('2001:db8:9:9::5'))).status).toBe(200);

    // A manual block of one address covers its network, as listed.
    const body = JSON.stringify({ ip: '2001:db8:8::5' });
    const manual = await send(gw.url, '/admin/blocks', {
      method: 'POST',
      headers: {
        ...AUTH,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
      },
      body,
    });
    expect(manual.json()).toMatchObject({ ip: '2001:db8:8::/64', reason: 'manual' });
    expect((await send(gw.url, '/x', from('2001:db8:8::9'))).status).toBe(429);
  });

  it('should limit the own endpoints per network too', async () => {
    const gw = await gateway({ ownEndpointsRate: 1, ownEndpointsBurst: 2 });
    const statuses: number[] = [];
    for (let i = 1; i <= 3; i++) {
      statuses.push((await send(gw.url, '/stats', from(`2001:db8:4:4::${i}`))).status);
    }
    expect(statuses).toEqual([200, 200, 429]);
  });
});
