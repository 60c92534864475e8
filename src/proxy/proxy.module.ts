import { Module } from '@nestjs/common';
import { RoutingModule } from '../routing/routing.module';
import { ProxyController } from './proxy.controller';
import { ProxyService } from './proxy.service';
import { UpgradeProxyService } from './upgrade-proxy.service';

@Module({
  imports: [RoutingModule],
  controllers: [ProxyController],
  providers: [ProxyService, UpgradeProxyService],
  exports: [ProxyService, UpgradeProxyService],
})
export class ProxyModule {}
