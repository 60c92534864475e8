import { Module } from '@nestjs/common';
import { UpstreamPoolsService } from './upstream-pools.service';

@Module({
  providers: [UpstreamPoolsService],
  exports: [UpstreamPoolsService],
})
export class LoadBalancingModule {}
