import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { RedisService } from '../src/redis/redis.service';
import { planRedisConnection } from '../src/redis/redis-connection';
import { MemoryBucketStore } from '../src/security/rate-limit/memory-bucket-store';
import { RedisBucketStore } from '../src/security/rate-limit/redis-bucket-store';
import { send, sleep, waitFor } from './fixtures/http';
import { spawnGateway, type GatewayProcess } from './fixtures/process';
import { startUpstream } from './fixtures/upstream';
import { killRedisServer, type RedisServerHandle, startRedisServer } from './support/redis-server';

/*
 * A real three-master Redis Cluster on loopback (redis-server --cluster-enabled, joined with
 * `redis-cli --cluster create`), to check the Cluster wiring of RedisService end to end: slot
 * discovery from one seed, scripts routed by key, pub/sub on a duplicate, and two gateways
 * sharing the response cache (purged on every master) and flood blocks (hash-tagged keys).
 */
describe('RedisService on a Redis Cluster (e2e)', () => {
  const nodes: RedisServerHandle[] = [];
  const ports: number[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) {
      // Each node in its own data directory, where it keeps its cluster config file.
      const node = await startRedisServer(undefined, [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
      ]);
      nodes.push(node);
      ports.push(node.port);
    }
    // Retried: cluster creation may race the nodes' own start-up.
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        await promisify(execFile)(
          'redis-cli',
          [
            '--cluster',
            'create',
            ...ports.map((p) => `127.0.0.1:${p}`),
            '--cluster-replicas',
            '0',
            '--cluster-yes',
          ],
          { timeout: 15_000 },
        );
        break;
      } catch (error) {
        if (Date.now() > deadline) {
          throw error;
        }
        await sleep(300);
      }
    }
  }, 40_000);

  afterAll(async () => {
    await Promise.all(nodes.map((node) => killRedisServer(node)));
  });

  const connect = (): RedisService =>
    new RedisService({
      // One seed is enough: the others are discovered from CLUSTER SLOTS.
      connection: planRedisConnection({
        sentinels: [],
        sentinelName: 'mymaster',
        clusterNodes: [{ host: '127.0.0.1', port: ports[0] ?? 0 }],
      }),
      commandTimeoutMs: 2_000,
    });

  it('should discover the cluster from one seed and route commands to every slot', async () => {
    const service = connect();
    try {
      expect(service.topology).toBe('cluster');
      await waitFor(() => service.isReady, 15_000, 50);
      // 30 keys spread over the hash slots, so over all three masters.
      const keys = Array.from({ length: 30 }, (_, i) => `topology:key:${i}`);
      for (const key of keys) {
        await service.client?.set(key, key);
      }
      for (const key of keys) {
        expect(await service.client?.get(key)).toBe(key);
      }
    } finally {
      await service.onApplicationShutdown();
    }
  });

  it('should share token buckets between two replicas through the cluster', async () => {
    const replicas = [connect(), connect()];
    try {
      for (const replica of replicas) {
        await waitFor(() => replica.isReady, 15_000, 50);
      }
      const stores = replicas.map(
        (r) => new RedisBucketStore(r, new MemoryBucketStore(), { failClosed: false }),
      );
      const burst = 20;
      let allowed = 0;
      for (let i = 0; i < burst * 2; i++) {
        const take = await stores[i % 2].take('cluster-client', 0.001, burst);
        allowed += take.allowed ? 1 : 0;
      }
      // One budget for both, not one each.
      expect(allowed).toBe(burst);
      expect(replicas.every((r) => r.isReady)).toBe(true);
    } finally {
      await Promise.all(replicas.map((r) => r.onApplicationShutdown()));
    }
  });

  describe('two gateways on the cluster', () => {
    const token = 'cluster-admin-token-0123456789abcdef';
    const gateways: GatewayProcess[] = [];
    let upstream: Awaited<ReturnType<typeof startUpstream>>;

    beforeAll(async () => {
      upstream = await startUpstream((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'public, max-age=60' });
        res.end('cached body');
      });
      for (let i = 0; i < 2; i++) {
        gateways.push(
          await spawnGateway({
            REDIS_CLUSTER_NODES: `127.0.0.1:${ports[0]}`,
            SERVICE_ROUTES: JSON.stringify([{ name: 'c', prefix: '/', target_url: upstream.url }]),
            ENABLE_CACHING: 'true',
            ADMIN_TOKEN: token,
            MAX_REQUESTS_PER_SECOND: '10000',
            MAX_BURST_SIZE: '10000',
            DDOS_THRESHOLD: '30',
            LOG_LEVEL: 'warn',
          }),
        );
      }
    }, 60_000);

    afterAll(async () => {
      await Promise.all(gateways.map((g) => g.stop()));
      await upstream.close();
    });

    it('should share cached responses and purge them by prefix on every master', async () => {
      const [a, b] = gateways;
      // Several URLs, so their keys fall on different masters.
      const paths = Array.from({ length: 6 }, (_, i) => `/shared/item-${i}`);
      for (const path of paths) {
        expect((await send(a.url, path)).headers['x-cache']).toBe('MISS');
      }
      for (const path of paths) {
        // The first gateway writes the entry after answering: poll (bounded) for it.
        let verdict: unknown;
        for (let attempt = 0; attempt < 50 && verdict !== 'HIT'; attempt++) {
          verdict = (await send(b.url, path)).headers['x-cache'];
          if (verdict !== 'HIT') {
            await sleep(100);
          }
        }
        expect(verdict).toBe('HIT');
      }
      const purge = await send(b.url, '/admin/cache/purge', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ prefix: '/shared/' }),
      });
      expect(purge.status).toBe(200);
      for (const path of paths) {
        expect((await send(a.url, path)).headers['x-cache']).toBe('MISS');
      }
    });

    it('should count floods and share blocks across gateways without CROSSSLOT errors', async () => {
      const [a, b] = gateways;
      // Only what is logged from here on: a slot-cache refresh may fail once while connecting.
      const logged = gateways.map((g) => (g.stdout() + g.stderr()).length);
      let admitted = 0;
      for (let i = 0; i < 60; i++) {
        const res = await send(i % 2 === 0 ? a.url : b.url, `/flood/${i}`);
        admitted += res.status === 200 ? 1 : 0;
      }
      // One window of DDOS_THRESHOLD for both, not one each (the earlier test's requests count).
      expect(admitted).toBeLessThanOrEqual(30);
      expect((await send(a.url, '/flood/after')).status).toBe(429);
      expect((await send(b.url, '/flood/after')).status).toBe(429);
      // Redis never went "down" for either replica: no fallback to local state was logged.
      gateways.forEach((g, i) => {
        const since = (g.stdout() + g.stderr()).slice(logged[i]);
        expect(since).not.toMatch(/CROSSSLOT|redis.*(unavailable|down)/i);
      });
    });
  });

  it('should deliver pub/sub on a duplicated connection', async () => {
    const service = connect();
    try {
      await waitFor(() => service.isReady, 15_000, 50);
      const subscriber = service.duplicate({ enableOfflineQueue: true, commandTimeout: undefined });
      const received: string[] = [];
      subscriber?.on('message', (_channel: string, message: string) => received.push(message));
      await subscriber?.subscribe('topology:events');
      await service.client?.publish('topology:events', 'hello');
      await waitFor(() => received.length > 0, 5_000);
      expect(received).toEqual(['hello']);
    } finally {
      await service.onApplicationShutdown();
    }
  });
});
