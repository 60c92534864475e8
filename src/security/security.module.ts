import { Module } from '@nestjs/common';
import { RedisModule } from '../redis/redis.module';
import { AuthModule } from './auth/auth.module';
import { EdgePipeline } from './edge-pipeline.service';
import { IpFilterModule } from './ip-filter/ip-filter.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';

/** Edge protection and authentication, exposed to the proxy as one EdgePipeline. */
@Module({
  imports: [RedisModule, IpFilterModule, RateLimitModule, AuthModule],
  providers: [EdgePipeline],
  exports: [EdgePipeline, AuthModule, IpFilterModule, RateLimitModule],
})
export class SecurityModule {}
