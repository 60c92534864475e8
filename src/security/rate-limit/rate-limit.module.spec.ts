import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { RedisService } from '../../redis/redis.service';
import { GatewayConfigModule } from '../../config/gateway.config';
import type { GatewayConfig } from '../../config/gateway-config.types';
import { loadGatewayConfig } from '../../config/load-config';
import { IpFilterModule } from '../ip-filter/ip-filter.module';
import { IpFilterService } from '../ip-filter/ip-filter.service';
import { MemoryBucketStore } from './memory-bucket-store';
import { RedisBucketStore } from './redis-bucket-store';
import { RateLimitModule } from './rate-limit.module';
import { RateLimitService } from './rate-limit.service';
import { RateLimitStorage } from './rate-limit-storage.interface';

function config(env: Record<string, string>): GatewayConfig {
  // cwd: a directory without a .env, so a developer's own .env cannot change the result.
  const result = loadGatewayConfig({
    env: { DEMO_UPSTREAM: 'false', ...env },
    cwd: __dirname,
    isTTY: false,
  });
  if (!result.ok) {
    throw new Error(result.problems.join('\n'));
  }
  return result.config;
}

async function compile(env: Record<string, string>) {
  const moduleRef = await Test.createTestingModule({
    imports: [GatewayConfigModule.forRoot(config(env)), RateLimitModule, IpFilterModule],
  }).compile();
  await moduleRef.init();
  return moduleRef;
}

describe('RateLimitModule and IpFilterModule', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('should wire in-memory buckets from the config when no Redis is set', async () => {
    const moduleRef = await compile({
      MAX_REQUESTS_PER_SECOND: '1',
      MAX_BURST_SIZE: '2',
      IP_BLACKLIST: '203.0.113.0/24',
    });

    expect(moduleRef.get(RateLimitStorage)).toBeInstanceOf(MemoryBucketStore);
    const limiter = moduleRef.get(RateLimitService);
    expect(limiter.consume('ip')).toMatchObject({ allowed: true, limit: 2, policy: 'default' });
    expect(limiter.consume('ip')).toMatchObject({ allowed: true });
    expect(limiter.consume('ip')).toMatchObject({ allowed: false });
    expect(moduleRef.get(IpFilterService).classify('203.0.113.9')).toBe('deny');
    expect(moduleRef.get(RedisService).client).toBeUndefined();
    await moduleRef.close();
  });

  it('should pick the Redis store when Redis is configured and answer from memory while it is down', async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const moduleRef = await compile({ REDIS_ADDR: '127.0.0.1:1' });

    expect(moduleRef.get(RateLimitStorage)).toBeInstanceOf(RedisBucketStore);
    expect(moduleRef.get(RateLimitService).consume('ip')).toMatchObject({ allowed: true });
    expect(moduleRef.get(IpFilterService).record('198.51.100.1')).toBe(false);
    await moduleRef.close();
  });
});
