import type { RedisConfig } from '../config/gateway-config.types';
import { isRedisConfigured } from '../config/settings/redis';
import { planRedisConnection } from './redis-connection';

const base: RedisConfig = { sentinels: [], sentinelName: 'mymaster', clusterNodes: [] };

describe('planRedisConnection', () => {
  it('should plan nothing without a URL, sentinels or cluster nodes', () => {
    expect(planRedisConnection(base)).toBeUndefined();
    expect(isRedisConfigured(base)).toBe(false);
    expect(isRedisConfigured({ ...base, sentinels: [{ host: 's', port: 26379 }] })).toBe(true);
  });

  it('should take host, port, db and credentials from a redis:// URL', () => {
    const plan = planRedisConnection({ ...base, url: 'redis://app:p%40ss@cache.internal:6380/2' });
    expect(plan).toEqual({
      kind: 'standalone',
      options: { host: 'cache.internal', port: 6380, db: 2, username: 'app', password: 'p@ss' },
      description: 'cache.internal:6380/2',
    });
    expect(plan?.description).not.toContain('p@ss');
  });

  it('should use REDIS_PASSWORD only when the URL carries none', () => {
    expect(
      planRedisConnection({ ...base, url: 'redis://127.0.0.1', password: 'secret' })?.options,
    ).toEqual({ host: '127.0.0.1', port: 6379, password: 'secret' });
    expect(
      planRedisConnection({ ...base, url: 'redis://:inurl@127.0.0.1:1', password: 'secret' })
        ?.options.password,
    ).toBe('inurl');
  });

  it('should turn rediss:// into TLS with SNI for names and none for IP addresses', () => {
    const named = planRedisConnection({ ...base, url: 'rediss://redis.example.com:6380' });
    expect(named?.options.tls).toEqual({ servername: 'redis.example.com' });
    expect(named?.description).toBe('redis.example.com:6380 (TLS)');
    expect(planRedisConnection({ ...base, url: 'rediss://10.0.0.5' })?.options.tls).toEqual({});
    expect(planRedisConnection({ ...base, url: 'redis://10.0.0.5' })?.options.tls).toBeUndefined();
    expect(planRedisConnection({ ...base, url: 'rediss://[::1]:7000' })?.options).toMatchObject({
      host: '::1',
      port: 7000,
      tls: {},
    });
  });

  it('should plan Sentinel with the master name, the URL credentials/db and TLS everywhere', () => {
    const plan = planRedisConnection({
      ...base,
      url: 'rediss://:pw@ignored-host:1/3',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
      ],
      sentinelName: 'gateway',
    });
    expect(plan).toEqual({
      kind: 'sentinel',
      options: {
        sentinels: [
          { host: 's1', port: 26379 },
          { host: 's2', port: 26380 },
        ],
        name: 'gateway',
        password: 'pw',
        db: 3,
        tls: {},
        sentinelTLS: {},
        enableTLSForSentinelMode: true,
      },
      description: 'sentinel master "gateway" via s1:26379,s2:26380 (TLS)',
    });
    // Sentinel without a URL: plain TCP, REDIS_PASSWORD for the master.
    expect(
      planRedisConnection({ ...base, sentinels: [{ host: 's1', port: 1 }], password: 'x' })
        ?.options,
    ).toEqual({ sentinels: [{ host: 's1', port: 1 }], name: 'mymaster', password: 'x' });
  });

  it('should plan Cluster with the seed nodes and per-node credentials and TLS', () => {
    const nodes = [
      { host: 'n1.example', port: 7000 },
      { host: 'n2.example', port: 7001 },
    ];
    expect(planRedisConnection({ ...base, clusterNodes: nodes, password: 'pw' })).toEqual({
      kind: 'cluster',
      nodes,
      options: { password: 'pw' },
      tls: false,
      description: 'cluster n1.example:7000,n2.example:7001',
    });
    const tls = planRedisConnection({ ...base, url: 'rediss://seed:1', clusterNodes: nodes });
    expect(tls).toMatchObject({
      kind: 'cluster',
      tls: true,
      options: { tls: {} },
    });
  });
});
