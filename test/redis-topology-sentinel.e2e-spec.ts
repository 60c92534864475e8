import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { RedisService } from '../src/redis/redis.service';
import { planRedisConnection } from '../src/redis/redis-connection';
import { send, sleep, waitFor } from './fixtures/http';
import { spawnGateway } from './fixtures/process';
import { startUpstream, type TestUpstream } from './fixtures/upstream';
import {
  freePort,
  killRedisServer,
  type RedisServerHandle,
  startRedisServer,
} from './support/redis-server';

const PASSWORD = 'sentinel-test-password';
const MASTER_NAME = 'gateway-master';

/*
 * A password-protected master watched by a real Redis Sentinel: the gateway is given only the
 * sentinel's address and the master's name, and must find the master through it.
 */
describe('RedisService through Redis Sentinel (e2e)', () => {
  let dir: string;
  let master: RedisServerHandle;
  let replica: RedisServerHandle;
  let sentinel: ChildProcess;
  let sentinelPort: number;
  let direct: Redis;
  let upstream: TestUpstream;

  beforeAll(async () => {
    upstream = await startUpstream();
    const auth = ['--requirepass', PASSWORD, '--masterauth', PASSWORD];
    master = await startRedisServer(undefined, auth);
    replica = await startRedisServer(undefined, [
      ...auth,
      '--replicaof',
      '127.0.0.1',
      String(master.port),
    ]);
    direct = new Redis({ host: '127.0.0.1', port: master.port, password: PASSWORD });
    dir = mkdtempSync(join(tmpdir(), 'gateway-sentinel-'));
    sentinelPort = await freePort();
    // Sentinel rewrites its config file, so it gets its own.
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master.port} 1`,
        `sentinel auth-pass ${MASTER_NAME} ${PASSWORD}`,
        `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
        `sentinel failover-timeout ${MASTER_NAME} 10000`,
        '',
      ].join('\n'),
    );
    sentinel = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
    const probe = new Redis({ host: '127.0.0.1', port: sentinelPort, lazyConnect: true });
    probe.on('error', () => undefined);
    try {
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          await probe.connect().catch(() => undefined);
          const addr = (await probe.call('SENTINEL', 'get-master-addr-by-name', MASTER_NAME)) as
            string[] | null;
          if (addr?.[1] === String(master.port)) {
            break;
          }
        } catch {
          // not up yet
        }
        if (Date.now() > deadline) {
          throw new Error('sentinel did not start');
        }
        await sleep(100);
      }
    } finally {
      probe.disconnect();
    }
  });

  afterAll(async () => {
    direct.disconnect();
    sentinel.kill('SIGKILL');
    await killRedisServer(master);
    await killRedisServer(replica);
    rmSync(dir, { recursive: true, force: true });
    await upstream.close();
  });

  /** A RedisService that finds the master through the sentinel, as REDIS_SENTINELS does. */
  const viaSentinel = (): RedisService =>
    new RedisService({
      connection: planRedisConnection({
        password: PASSWORD,
        sentinels: [{ host: '127.0.0.1', port: sentinelPort }],
        sentinelName: MASTER_NAME,
        clusterNodes: [],
      }),
      commandTimeoutMs: 2_000,
    });

  it('should find the master through the sentinel and authenticate with REDIS_PASSWORD', async () => {
    const service = viaSentinel();
    try {
      expect(service.topology).toBe('sentinel');
      await waitFor(() => service.isReady, 10_000, 50);
      await service.client?.set('sentinel:written', 'via-sentinel');
      expect(await direct.get('sentinel:written')).toBe('via-sentinel');
    } finally {
      await service.onApplicationShutdown();
    }
  });

  it('should share state from the built gateway given only REDIS_SENTINELS', async () => {
    await direct.flushall();
    const gw = await spawnGateway({
      SERVICE_ROUTES: JSON.stringify([{ name: 'app', prefix: '/', target_url: upstream.url }]),
      REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`,
      REDIS_SENTINEL_NAME: MASTER_NAME,
      REDIS_PASSWORD: PASSWORD,
      // A bucket key lives (burst - tokens) / rate: 1/s keeps it long enough to be seen.
      MAX_REQUESTS_PER_SECOND: '1',
      MAX_BURST_SIZE: '1000',
      LOG_LEVEL: 'info',
    });
    try {
      const deadline = Date.now() + 15_000;
      let keys: string[] = [];
      for (let i = 0; keys.length === 0; i++) {
        expect(Date.now()).toBeLessThan(deadline);
        expect((await send(gw.url, `/probe/${i}`)).status).toBe(200);
        keys = await direct.keys('gw:rl:*');
        await sleep(50);
      }
      expect(keys.length).toBeGreaterThan(0);
      expect(gw.stdout()).not.toContain('Redis unavailable');
    } finally {
      await gw.stop();
    }
  });

  // Last: it kills the master.
  it('should follow a failover to the promoted replica', async () => {
    const service = viaSentinel();
    const promoted = new Redis({ host: '127.0.0.1', port: replica.port, password: PASSWORD });
    try {
      await waitFor(() => service.isReady, 10_000, 50);
      await killRedisServer(master);
      // Sentinel notices after down-after-milliseconds (1 s) and promotes the replica; ioredis
      // asks the sentinel again on reconnect and lands on the new master.
      const deadline = Date.now() + 40_000;
      for (;;) {
        const written = await service.client?.set('sentinel:after-failover', 'yes').then(
          () => true,
          () => false,
        );
        if (written) {
          break;
        }
        expect(Date.now()).toBeLessThan(deadline);
        await sleep(250);
      }
      expect(await promoted.get('sentinel:after-failover')).toBe('yes');
      expect(await promoted.call('ROLE').then((r) => (r as string[])[0])).toBe('master');
    } finally {
      promoted.disconnect();
      await service.onApplicationShutdown();
    }
  }, 60_000);
});
