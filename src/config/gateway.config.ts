/**
 * @nestjs/config integration. The config is loaded and validated before Nest starts
 * (`loadGatewayConfig()` in main.ts) and handed in as a value, so a bad config never half-starts an
 * application and nothing in here reads the environment.
 */
import { type DynamicModule, Global, Inject, Module } from '@nestjs/common';
import { ConfigModule, getConfigToken, registerAs } from '@nestjs/config';
import type { GatewayConfig } from './gateway-config.types';

const GATEWAY_CONFIG_NAMESPACE = 'gateway';

/**
 * DI token of the {@link GatewayConfig}; the same token `registerAs('gateway', …).KEY` produces,
 * so `ConfigService.get('gateway')` sees the same object.
 */
export const GATEWAY_CONFIG = getConfigToken(GATEWAY_CONFIG_NAMESPACE);

/**
 * Injects the whole {@link GatewayConfig}.
 *
 * @example
 * constructor(@InjectGatewayConfig() private readonly config: GatewayConfig) {}
 */
export const InjectGatewayConfig = (): ParameterDecorator & PropertyDecorator =>
  Inject(GATEWAY_CONFIG);

@Global()
@Module({})
export class GatewayConfigModule {
  /** Import once, in the root module, with the already validated config. */
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: GatewayConfigModule,
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          // The environment was read (and `.env` merged) by loadGatewayConfig; reading it again here
          // would bypass validation and copy `.env` into process.env.
          ignoreEnvFile: true,
          validatePredefined: false,
          skipProcessEnv: true,
          load: [registerAs(GATEWAY_CONFIG_NAMESPACE, () => config)],
        }),
      ],
      exports: [ConfigModule],
    };
  }
}
