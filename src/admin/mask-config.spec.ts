import { loadGatewayConfig } from '../config/load-config';
import { maskConfig } from './mask-config';

describe('maskConfig', () => {
  it('should hide every secret and keep the rest', () => {
    const loaded = loadGatewayConfig({
      env: {
        JWT_SECRET: 's'.repeat(40),
        ADMIN_TOKEN: 't'.repeat(40),
        REDIS_URL: 'redis://user:hunter2@127.0.0.1:6379/0',
        SERVICE_ROUTES: JSON.stringify([
          { prefix: '/maps', target_url: 'https://maps.example.com/v1?key=MAPS-KEY&region=eu' },
        ]),
        REDIS_PASSWORD: 'other-secret',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'https://tracer:collector-pass@otel.example.com',
        DEMO_UPSTREAM: 'false',
      },
      cwd: __dirname,
      isTTY: false,
    });
    if (!loaded.ok) {
      throw new Error(loaded.problems.join('; '));
    }
    loaded.config.auth.apiKeys = [{ hash: 'ab'.repeat(32), name: 'ops', admin: true }];

    const masked = maskConfig(loaded.config);
    const text = JSON.stringify(masked);

    expect(text).not.toContain('s'.repeat(40));
    expect(text).not.toContain('t'.repeat(40));
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('other-secret');
    expect(text).not.toContain('collector-pass');
    expect(text).not.toContain('ab'.repeat(32));
    expect(text).not.toContain('MAPS-KEY');
    expect(masked.routes).toEqual([
      expect.objectContaining({
        upstreams: [{ url: 'https://maps.example.com/v1?key=***&region=***', weight: 1 }],
      }),
    ]);
    expect(masked.auth).toMatchObject({
      jwtSecret: '***',
      apiKeys: [{ id: 'ab'.repeat(8), name: 'ops', admin: true }],
    });
    expect(masked.redis).toMatchObject({ url: 'redis://***@127.0.0.1:6379/0' });
    expect(masked.server).toEqual(loaded.config.server);
  });
});
