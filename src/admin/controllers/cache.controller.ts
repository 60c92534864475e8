import { Body, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse } from '@nestjs/swagger';
import { HttpCacheService } from '../../cache/http-cache.service';
import { Admin, type AdminContext } from '../admin-context';
import { AdminController } from '../admin-controller.decorator';
import { badRequest } from '../admin-error';
import { AdminStateService } from '../admin-state.service';
import { AuditLogService } from '../audit-log.service';
import {
  cachePurgeResponseSchema,
  cachePurgeSchema,
  cacheStatsSchema,
  type CachePurge,
} from '../dto/cache.dto';
import { errorSchema, openApi } from '../dto/openapi';
import { ZodValidationPipe } from '../zod-validation.pipe';

/** The response cache: purge and statistics. */
@AdminController('Cache')
export class CacheController {
  constructor(
    private readonly cache: HttpCacheService,
    private readonly state: AdminStateService,
    private readonly audit: AuditLogService,
  ) {}

  @Post('cache/purge')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Remove cached responses: one URL (every variant) or every URL under a prefix',
    description:
      'A path (`/a?b=1`) applies to every host; an absolute URL to that scheme and host only. With Redis the shared store is purged too.',
  })
  @ApiBody({
    schema: openApi(cachePurgeSchema),
    examples: {
      url: { value: { url: '/api/products?page=1' } },
      prefix: { value: { prefix: 'https://api.example.com/api/products' } },
    },
  })
  @ApiResponse({ status: 200, schema: openApi(cachePurgeResponseSchema, 'output') })
  @ApiResponse({ status: 400, schema: openApi(errorSchema, 'output') })
  async purge(
    @Admin() ctx: AdminContext,
    @Body(new ZodValidationPipe(cachePurgeSchema)) body: CachePurge,
  ): Promise<unknown> {
    let removed: number;
    try {
      removed =
        body.url !== undefined
          ? await this.state.purgeCache({ url: body.url })
          : await this.state.purgeCache({ prefix: body.prefix ?? '' });
    } catch (error) {
      const field = body.url !== undefined ? 'body.url' : 'body.prefix';
      throw badRequest('invalid purge target', [
        { field, message: error instanceof Error ? error.message : 'invalid' },
      ]);
    }
    const result = { ...body, removed };
    this.audit.record(ctx.actor, ctx.requestId, {
      action: body.url !== undefined ? 'cache.purge' : 'cache.purge-prefix',
      target: body.url ?? body.prefix,
      after: { removed },
    });
    return result;
  }

  @Get('cache/stats')
  @ApiOperation({ summary: 'Cache statistics: store, entries, bytes, hits, misses, evictions' })
  @ApiResponse({ status: 200, schema: openApi(cacheStatsSchema, 'output') })
  stats(): unknown {
    return this.cache.stats();
  }
}
