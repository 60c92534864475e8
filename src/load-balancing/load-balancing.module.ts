import { Module, type OnApplicationShutdown } from '@nestjs/common';
import { GATEWAY_CONFIG } from '../config/gateway.config';
import type { GatewayConfig } from '../config/gateway-config.types';
import { MetricsModule } from '../observability/metrics.module';
import { OutlierDetector } from './outlier-detector';
import { StallDetector } from './stall-detector';
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
    {
      provide: StallDetector,
      useFactory: (config: GatewayConfig, outliers: OutlierDetector) =>
        new StallDetector({ stallMs: config.loadBalancing.stallTimeoutMs }, outliers),
      inject: [GATEWAY_CONFIG, OutlierDetector],
    },
  ],
  exports: [UpstreamPoolsService, OutlierDetector, StallDetector],
})
export class LoadBalancingModule implements OnApplicationShutdown {
  constructor(
    private readonly outliers: OutlierDetector,
    private readonly stalls: StallDetector,
  ) {}

  onApplicationShutdown(): void {
    this.stalls.dispose();
    this.outliers.dispose();
  }
}
