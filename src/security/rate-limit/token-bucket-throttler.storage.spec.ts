import { Controller, Get, type INestApplication } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { ThrottlerModule } from '@nestjs/throttler';
import { APP_GUARD } from '@nestjs/core';
import { MemoryBucketStore } from './memory-bucket-store';
import { RateLimitGuard, RESOLVE_CLIENT_IP } from './rate-limit.guard';
import { TokenBucketThrottlerStorage } from './token-bucket-throttler.storage';

describe('TokenBucketThrottlerStorage', () => {
  let now: number;
  let storage: TokenBucketThrottlerStorage;

  beforeEach(() => {
    now = 0;
    storage = new TokenBucketThrottlerStorage(new MemoryBucketStore({ clock: () => now }));
  });

  it('should map limit to burst and limit/ttl to the refill rate', async () => {
    // 3 per second: 3 at once, then one every 333 ms.
    const hits = [];
    for (let i = 0; i < 4; i++) {
      hits.push(await storage.increment('k', 1_000, 3, 0, 'default'));
    }

    expect(hits.map((h) => h.isBlocked)).toEqual([false, false, false, true]);
    expect(hits[0]).toEqual({
      totalHits: 1,
      timeToExpire: 1,
      isBlocked: false,
      timeToBlockExpire: 0,
    });
    expect(hits[3]).toEqual({
      totalHits: 4,
      timeToExpire: 1,
      isBlocked: true,
      timeToBlockExpire: 1,
    });

    now += 334;
    expect((await storage.increment('k', 1_000, 3, 0, 'default')).isBlocked).toBe(false);
    expect((await storage.increment('k', 1_000, 3, 0, 'default')).isBlocked).toBe(true);
  });

  it('should keep throttlers with different names apart', async () => {
    await storage.increment('k', 60_000, 1, 0, 'burst');

    expect((await storage.increment('k', 60_000, 1, 0, 'burst')).isBlocked).toBe(true);
    expect((await storage.increment('k', 60_000, 1, 0, 'sustained')).isBlocked).toBe(false);
  });
});

@Controller('admin')
class PingController {
  @Get('ping')
  ping(): string {
    return 'pong';
  }
}

describe('RateLimitGuard', () => {
  let app: NestFastifyApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(extraProviders: { provide: symbol; useValue: unknown }[] = []) {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ThrottlerModule.forRoot({
          throttlers: [{ ttl: 60_000, limit: 2 }],
          storage: new TokenBucketThrottlerStorage(new MemoryBucketStore()),
        }),
      ],
      controllers: [PingController],
      providers: [{ provide: APP_GUARD, useClass: RateLimitGuard }, ...extraProviders],
    }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter());
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    return app as INestApplication & NestFastifyApplication;
  }

  it('should key by the socket peer, ignoring X-Forwarded-For, and send the throttler headers', async () => {
    const server = await start();
    const get = (xff: string) =>
      server.inject({ method: 'GET', url: '/admin/ping', headers: { 'x-forwarded-for': xff } });

    const first = await get('1.1.1.1');
    await get('2.2.2.2');
    const third = await get('3.3.3.3');

    expect(first.statusCode).toBe(200);
    expect(first.headers['x-ratelimit-limit']).toBe('2');
    expect(first.headers['x-ratelimit-remaining']).toBe('1');
    expect(third.statusCode).toBe(429);
    expect(third.headers['retry-after']).toBe('30');
  });

  it('should use the injected client-IP resolver', async () => {
    const server = await start([
      {
        provide: RESOLVE_CLIENT_IP,
        useValue: (req: { headers: Record<string, string> }) => req.headers['x-client'],
      },
    ]);
    const get = (client: string) =>
      server.inject({ method: 'GET', url: '/admin/ping', headers: { 'x-client': client } });

    await get('a');
    await get('a');

    expect((await get('a')).statusCode).toBe(429);
    expect((await get('b')).statusCode).toBe(200);
  });
});
