import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RedisService } from '../src/common/redis/redis.service';
import { planRedisConnection } from '../src/common/redis/redis-connection';
import { MemoryBucketStore } from '../src/security/rate-limit/memory-bucket-store';
import { RedisBucketStore } from '../src/security/rate-limit/redis-bucket-store';
import { sleep, waitFor } from './fixtures/http';
import { freePort } from './support/redis-server';

/*
 * A real three-master Redis Cluster on loopback (redis-server --cluster-enabled, joined with
 * `redis-cli --cluster create`), to check the Cluster wiring of RedisService end to end: slot
 * discovery from one seed, scripts routed by key, pub/sub on a duplicate. What is not supported
 * on Cluster (multi-key flood script) is documented in the README.
 */
describe('RedisService on a Redis Cluster (e2e)', () => {
  let dir: string;
  const nodes: ChildProcess[] = [];
  const ports: number[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gateway-redis-cluster-'));
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      ports.push(port);
      nodes.push(
        spawn(
          'redis-server',
          [
            '--port',
            String(port),
            '--bind',
            '127.0.0.1',
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            `nodes-${port}.conf`,
            '--save',
            '',
            '--appendonly',
            'no',
            '--dir',
            dir,
          ],
          { stdio: 'ignore', cwd: dir },
        ),
      );
    }
    await sleep(300);
    // Retried: a node may still be starting.
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

  afterAll(() => {
    for (const node of nodes) {
      node.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
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
