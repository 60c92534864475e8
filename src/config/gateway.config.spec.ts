import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { GATEWAY_CONFIG, GatewayConfigModule, InjectGatewayConfig } from './gateway.config';
import type { GatewayConfig } from './gateway-config.types';
import { loadGatewayConfig } from './load-config';

@Injectable()
class Consumer {
  constructor(@InjectGatewayConfig() readonly config: GatewayConfig) {}
}

describe('GatewayConfigModule', () => {
  it('should provide the given config to @InjectGatewayConfig() and ConfigService', async () => {
    // Arrange
    const loaded = loadGatewayConfig({ env: { ROUTE_A_URL: 'h:1' }, cwd: __dirname });
    if (!loaded.ok) {
      throw new Error(loaded.problems.join('\n'));
    }

    // Act
    const moduleRef = await Test.createTestingModule({
      imports: [GatewayConfigModule.forRoot(loaded.config)],
      providers: [Consumer],
    }).compile();

    // Assert
    expect(moduleRef.get(Consumer).config).toBe(loaded.config);
    expect(moduleRef.get(GATEWAY_CONFIG)).toBe(loaded.config);
    expect(moduleRef.get(ConfigService).get<GatewayConfig>('gateway')).toBe(loaded.config);
    expect(moduleRef.get(ConfigService).get('PATH')).toBeUndefined();
    await moduleRef.close();
  });
});
