import { Module } from '@nestjs/common';
import { CacheModule } from '../cache/cache.module';
import { LoadBalancingModule } from '../load-balancing/load-balancing.module';
import { RoutingModule } from '../routing/routing.module';
import { SecurityModule } from '../security/security.module';
import { ProxyRoute } from './proxy-route';
import { ProxyService } from './proxy.service';
import { UpgradeProxyService } from './upgrade-proxy.service';

@Module({
  imports: [RoutingModule, LoadBalancingModule, SecurityModule, CacheModule],
  providers: [ProxyService, UpgradeProxyService, ProxyRoute],
  exports: [ProxyService, UpgradeProxyService, ProxyRoute],
})
export class ProxyModule {}
