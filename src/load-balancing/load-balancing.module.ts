import { Module, type OnApplicationShutdown } from '@nestjs/common';
import { GATEWAY_CONFIG } from '../config/gateway.config';
import type { GatewayConfig } from '../config/gateway-config.types';
import { MetricsModule } from '../observability/metrics.module';
import { OutlierDetector } from './outlier-detector';
import { UpstreamPoolsService } from './upstream-pools.service';

@Module({
  imports: [MetricsModule],
  providers: [
    UpstreamPoolsService,
    {
      provide: OutlierDetector,
      useFactory: (config: GatewayConfig) =>
        new OutlierDetector({
          consecutiveFailures: config.loadBalancing.passiveEjectFailures,
          baseEjectionMs: config.loadBalancing.passiveEjectBaseMs,
        }),
      inject: [GATEWAY_CONFIG],
    },
  ],
  exports: [UpstreamPoolsService, OutlierDetector],
})
export class LoadBalancingModule implements OnApplicationShutdown {
  constructor(private readonly outliers: OutlierDetector) {}

  onApplicationShutdown(): void {
    this.outliers.dispose();
  }
}
