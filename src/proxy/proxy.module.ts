import { Module } from '@nestjs/common';
import { CacheModule } from '../cache/cache.module';
import { LoadBalancingModule } from '../load-balancing/load-balancing.module';
import { RoutingModule } from '../routing/routing.module';
import { SecurityModule } from '../security/security.module';
import { EdgeGuard } from './edge.guard';
import { ProxyExceptionFilter } from './proxy-exception.filter';
import { ProxyController } from './proxy.controller';
import { ProxyService } from './proxy.service';
import { UpgradeProxyService } from './upgrade-proxy.service';

@Module({
  imports: [RoutingModule, LoadBalancingModule, SecurityModule, CacheModule],
  controllers: [ProxyController],
  providers: [ProxyService, UpgradeProxyService, EdgeGuard, ProxyExceptionFilter],
  exports: [ProxyService, UpgradeProxyService],
})
export class ProxyModule {}
