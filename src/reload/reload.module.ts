import { Module } from '@nestjs/common';
import { WorkerSyncModule } from '../cluster/worker-sync.module';
import { RoutingModule } from '../routing/routing.module';
import { IpFilterModule } from '../security/ip-filter/ip-filter.module';
import { ConfigReloadService } from './config-reload.service';

/** Reloading routes and IP lists at run time (admin API, SIGHUP, file watch, cluster primary). */
@Module({
  imports: [RoutingModule, IpFilterModule, WorkerSyncModule],
  providers: [ConfigReloadService],
  exports: [ConfigReloadService, WorkerSyncModule],
})
export class ReloadModule {}
