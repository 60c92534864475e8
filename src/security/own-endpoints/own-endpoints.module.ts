import { Module } from '@nestjs/common';
import { IpFilterModule } from '../ip-filter/ip-filter.module';
import { OwnEndpointGate } from './own-endpoint-gate';

/**
 * The edge checks of the gateway's own endpoints. AppModule registers `EdgeExceptionFilter` (the
 * global filter, which screens errors Fastify raises before any check ran) with this module's
 * gate.
 */
@Module({
  imports: [IpFilterModule],
  providers: [OwnEndpointGate],
  exports: [OwnEndpointGate],
})
export class OwnEndpointsModule {}
