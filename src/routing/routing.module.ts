import { Module } from '@nestjs/common';
import { LoadBalancingModule } from '../load-balancing/load-balancing.module';
import { RouteTableService } from './route-table.service';

@Module({
  imports: [LoadBalancingModule],
  providers: [RouteTableService],
  exports: [RouteTableService],
})
export class RoutingModule {}
