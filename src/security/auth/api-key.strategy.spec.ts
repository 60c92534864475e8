import { createHash } from 'node:crypto';
import { Controller, Get, Req, UseGuards, type INestApplication } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { testAuthConfig } from '../../../test/fixtures/jwt';
import { GatewayConfigModule } from '../../config/gateway.config';
import type { GatewayConfig } from '../../config/gateway-config.types';
import { ApiKeyAuthGuard } from './api-key-auth.guard';
import { ApiKeyStore } from './api-key-store';
import { AuthModule } from './auth.module';
import type { Principal } from './auth.types';

const KEY = 'ops-console-key-0123456789abcdef';

@Controller('probe')
class ProbeController {
  @Get()
  @UseGuards(ApiKeyAuthGuard)
  whoAmI(@Req() req: { user: Principal }): Principal {
    return req.user;
  }
}

describe('ApiKeyStrategy + ApiKeyAuthGuard', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    const config = {
      redis: { sentinels: [], sentinelName: 'mymaster', clusterNodes: [] },
      auth: testAuthConfig({
        apiKeys: [
          {
            hash: createHash('sha256').update(KEY).digest('hex'),
            name: 'ops',
            rateLimit: { rate: 1, burst: 2 },
          },
        ],
      }),
    } as unknown as GatewayConfig;
    const moduleRef = await Test.createTestingModule({
      imports: [GatewayConfigModule.forRoot(config), AuthModule],
      controllers: [ProbeController],
    }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
      logger: false,
    });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });

  afterAll(async () => {
    await (app as INestApplication).close();
  });

  it('should put the key principal on the request for a known X-API-Key', async () => {
    const res = await app.inject({ method: 'GET', url: '/probe', headers: { 'x-api-key': KEY } });

    expect(res.statusCode).toBe(200);
    const id = createHash('sha256').update(KEY).digest('hex').slice(0, 16);
    expect(res.json()).toEqual({
      kind: 'api-key',
      id,
      key: `api-key:${id}`,
      name: 'ops',
      rateLimit: { rate: 1, burst: 2 },
    });
    const [record] = await app.get(ApiKeyStore).list();
    expect(record.lastUsedAt).toEqual(expect.any(Number));
  });

  it('should answer the same plain 401 for a missing, empty or unknown key', async () => {
    const bodies = [];
    for (const headers of [{}, { 'x-api-key': '' }, { 'x-api-key': 'demo-api-key-123' }]) {
      const res = await app.inject({ method: 'GET', url: '/probe', headers });
      expect(res.statusCode).toBe(401);
      bodies.push(res.body);
    }

    expect(new Set(bodies).size).toBe(1);
    expect(bodies[0]).not.toMatch(/missing|api key|prefix/i);
  });
});
