import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import type { Logger } from 'pino';
import { AdminModule } from './admin/admin.module';
import { GatewayConfigModule } from './config/gateway.config';
import type { GatewayConfig } from './config/gateway-config.types';
import { HealthModule } from './health/health.module';
import { DashboardModule } from './observability/dashboard/dashboard.module';
import { MetricsModule } from './observability/metrics.module';
import { MonitorModule } from './observability/monitor/monitor.module';
import { ObservabilityModule } from './observability/observability.module';
import { RequestMetricsModule } from './observability/request-metrics.module';
import { StatsHttpModule } from './observability/stats-http.module';
import { ProxyModule } from './proxy/proxy.module';
import { EdgeExceptionFilter } from './security/own-endpoints/edge-exception.filter';
import { OwnEndpointsModule } from './security/own-endpoints/own-endpoints.module';
import { ReloadModule } from './reload/reload.module';

/**
 * Composition root. The config is loaded and validated before Nest starts (an invalid config must
 * never half-start), then handed in here as a value.
 */
@Module({})
export class AppModule {
  static forRoot(config: GatewayConfig, rootLogger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        GatewayConfigModule.forRoot(config),
        ObservabilityModule.forRoot(rootLogger),
        // The only ScheduleModule.forRoot(): a second import would run every job twice.
        ScheduleModule.forRoot(),
        MetricsModule,
        RequestMetricsModule,
        // Deny list, flood blocks and a per-client limit for every endpoint below.
        OwnEndpointsModule,
        // /metrics and /stats (may move to the admin listener).
        StatsHttpModule,
        HealthModule,
        // Routes and IP lists reloaded by SIGHUP, GATEWAY_CONFIG_WATCH and the admin API.
        ReloadModule,
        MonitorModule,
        DashboardModule,
        // Empty without ADMIN_TOKEN: the admin API is off by default.
        AdminModule.forRoot(config),
        // Last: its wildcard must not shadow the gateway's own controllers.
        ProxyModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: EdgeExceptionFilter }],
    };
  }
}
