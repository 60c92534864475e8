import { Global, Module, type DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { HealthController } from '../health/health.controller';
import { AccessLogService } from './access-log.service';
import { ROOT_LOGGER } from './observability.constants';

/**
 * Logging for the whole app. nestjs-pino serves Nest's own logger; its per-request middleware is
 * bound only to the gateway's own controllers, because the proxy writes its own access line and
 * a child logger per proxied request is measurable cost for nothing.
 */
@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(rootLogger: Logger): DynamicModule {
    return {
      module: ObservabilityModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: { logger: rootLogger, autoLogging: false, quietReqLogger: true },
          forRoutes: [HealthController],
        }),
      ],
      providers: [{ provide: ROOT_LOGGER, useValue: rootLogger }, AccessLogService],
      exports: [ROOT_LOGGER, AccessLogService, LoggerModule],
    };
  }
}
