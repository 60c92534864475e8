import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { Redis } from 'ioredis';
import { RedisService } from '../src/redis/redis.service';
import { planRedisConnection } from '../src/redis/redis-connection';
import { send, sleep, waitFor } from './fixtures/http';
import { type GatewayProcess, spawnGateway } from './fixtures/process';
import { startUpstream, type TestUpstream } from './fixtures/upstream';
import {
  freePort,
  killRedisServer,
  type RedisServerHandle,
  startRedisServer,
} from './support/redis-server';

const PASSWORD = 'topology-test-password';
const topology = { sentinels: [], sentinelName: 'mymaster', clusterNodes: [] };

/** Sends requests until the gateway has written a token bucket to Redis (it connects at boot). */
async function waitForSharedBucket(gw: GatewayProcess, client: Redis): Promise<string[]> {
  const deadline = Date.now() + 15_000;
  for (let i = 0; Date.now() < deadline; i++) {
    expect((await send(gw.url, `/probe/${i}`)).status).toBe(200);
    const keys = await client.keys('gw:rl:*');
    if (keys.length > 0) {
      return keys;
    }
    await sleep(100);
  }
  throw new Error('the gateway never wrote a bucket to Redis');
}

describe('Redis topology options (e2e)', () => {
  let upstream: TestUpstream;
  let redis: RedisServerHandle;
  let admin: Redis;
  const routes = (): string =>
    JSON.stringify([{ name: 'app', prefix: '/', target_url: upstream.url }]);

  beforeAll(async () => {
    upstream = await startUpstream();
    redis = await startRedisServer(undefined, ['--requirepass', PASSWORD]);
    admin = new Redis({ port: redis.port, host: '127.0.0.1', password: PASSWORD });
  });

  afterAll(async () => {
    admin.disconnect();
    await killRedisServer(redis);
    await upstream.close();
  });

  it('should authenticate with REDIS_PASSWORD when the URL carries none', async () => {
    const service = new RedisService({
      connection: planRedisConnection({ ...topology, url: redis.url, password: PASSWORD }),
      commandTimeoutMs: 2_000,
    });
    try {
      await waitFor(() => service.isReady, 5_000);
      await service.client?.set('topology:auth', 'ok');
      expect(await admin.get('topology:auth')).toBe('ok');
    } finally {
      await service.onApplicationShutdown();
    }
  });

  it('should stay degraded, not crash, with a wrong or missing password', async () => {
    for (const password of ['wrong-password', undefined]) {
      const service = new RedisService({
        connection: planRedisConnection({
          ...topology,
          url: redis.url,
          ...(password === undefined ? {} : { password }),
        }),
        connectTimeoutMs: 1_000,
      });
      try {
        await sleep(500);
        expect(service.isReady).toBe(false);
        await expect(service.client?.get('topology:auth')).rejects.toThrow();
      } finally {
        await service.onApplicationShutdown();
      }
    }
  });

  it('should share rate-limit buckets through a password-protected Redis from the built gateway', async () => {
    await admin.flushall();
    const gw = await spawnGateway({
      SERVICE_ROUTES: routes(),
      REDIS_URL: redis.url,
      REDIS_PASSWORD: PASSWORD,
      // A bucket key lives (burst - tokens) / rate: 1/s keeps it long enough to be seen.
      MAX_REQUESTS_PER_SECOND: '1',
      MAX_BURST_SIZE: '1000',
      LOG_LEVEL: 'info',
    });
    try {
      const keys = await waitForSharedBucket(gw, admin);
      expect(keys.length).toBeGreaterThan(0);
      expect(gw.stdout()).not.toContain(PASSWORD); // never logged
    } finally {
      await gw.stop();
    }
  });

  it('should serve (fail-open) and log the outage once when the password is wrong', async () => {
    const gw = await spawnGateway({
      SERVICE_ROUTES: routes(),
      REDIS_URL: redis.url,
      REDIS_PASSWORD: 'not-the-password',
      LOG_LEVEL: 'info',
    });
    try {
      for (let i = 0; i < 5; i++) {
        expect((await send(gw.url, `/x/${i}`)).status).toBe(200);
      }
      await waitFor(() => gw.stdout().includes('Redis unavailable'), 5_000);
      expect(gw.stdout().split('Redis unavailable').length - 1).toBe(1);
      expect(gw.stdout()).not.toContain('not-the-password');
    } finally {
      await gw.stop();
    }
  });

  describe('rediss:// (TLS)', () => {
    let dir: string;
    let tlsRedis: ChildProcess;
    let tlsPort: number;
    let certFile: string;

    beforeAll(async () => {
      // A self-signed certificate for "localhost", trusted by the gateway through
      // NODE_EXTRA_CA_CERTS: certificate verification stays on, as in production.
      dir = mkdtempSync(join(tmpdir(), 'gateway-redis-tls-'));
      certFile = join(dir, 'tls.crt');
      const keyFile = join(dir, 'tls.key');
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=DNS:localhost',
          '-keyout',
          keyFile,
          '-out',
          certFile,
        ],
        { stdio: 'ignore' },
      );
      tlsPort = await freePort();
      tlsRedis = spawn(
        'redis-server',
        [
          '--port',
          '0',
          '--tls-port',
          String(tlsPort),
          '--bind',
          '127.0.0.1',
          '--tls-cert-file',
          certFile,
          '--tls-key-file',
          keyFile,
          '--tls-auth-clients',
          'no',
          '--requirepass',
          PASSWORD,
          '--save',
          '',
          '--appendonly',
          'no',
          '--dir',
          dir,
        ],
        { stdio: 'ignore' },
      );
      const deadline = Date.now() + 10_000;
      for (;;) {
        const up = await new Promise<boolean>((resolve) => {
          const socket = tlsConnect({
            port: tlsPort,
            host: '127.0.0.1',
            rejectUnauthorized: false,
          });
          socket.once('secureConnect', () => {
            socket.destroy();
            resolve(true);
          });
          socket.once('error', () => resolve(false));
        });
        if (up) {
          break;
        }
        if (Date.now() > deadline) {
          throw new Error('TLS redis-server did not start');
        }
        await sleep(100);
      }
    });

    afterAll(() => {
      tlsRedis.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });

    it('should connect over TLS with certificate verification from the built gateway', async () => {
      const gw = await spawnGateway({
        SERVICE_ROUTES: routes(),
        REDIS_URL: `rediss://localhost:${tlsPort}`,
        REDIS_PASSWORD: PASSWORD,
        NODE_EXTRA_CA_CERTS: certFile,
        MAX_REQUESTS_PER_SECOND: '1',
        MAX_BURST_SIZE: '1000',
        LOG_LEVEL: 'info',
      });
      const client = new Redis({
        host: 'localhost',
        port: tlsPort,
        password: PASSWORD,
        tls: { rejectUnauthorized: false },
      });
      try {
        await waitForSharedBucket(gw, client);
        expect(gw.stdout()).not.toContain('Redis unavailable');
      } finally {
        client.disconnect();
        await gw.stop();
      }
    });

    it('should refuse a certificate it cannot verify (TLS really on, no silent downgrade)', async () => {
      const gw = await spawnGateway({
        SERVICE_ROUTES: routes(),
        REDIS_URL: `rediss://localhost:${tlsPort}`,
        REDIS_PASSWORD: PASSWORD,
        LOG_LEVEL: 'info',
      });
      try {
        expect((await send(gw.url, '/still-serving')).status).toBe(200);
        await waitFor(() => gw.stdout().includes('Redis unavailable'), 5_000);
        expect(gw.stdout()).toMatch(/Redis unavailable \([^)]*(certificate|self.signed)/i);
      } finally {
        await gw.stop();
      }
    });
  });
});
