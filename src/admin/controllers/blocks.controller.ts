import { Body, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiResponse } from '@nestjs/swagger';
import { z } from 'zod';
import { parseGoDuration } from '../../config/duration';
import { normalizeIp } from '../../security/client-ip';
import { IpFilterService } from '../../security/ip-filter/ip-filter.service';
import { Admin, type AdminContext } from '../admin-context';
import { AdminController } from '../admin-controller.decorator';
import { badRequest, notFound } from '../admin-error';
import { AdminStateService } from '../admin-state.service';
import { AuditLogService } from '../audit-log.service';
import { blockBodySchema, blockSchema, type BlockBody } from '../dto/ip-list.dto';
import { errorSchema, openApi } from '../dto/openapi';
import { ZodValidationPipe } from '../zod-validation.pipe';

/** Flood blocks (and manual ones): shared by every replica through Redis when configured. */
@AdminController('Blocks')
export class BlocksController {
  constructor(
    private readonly ipFilter: IpFilterService,
    private readonly state: AdminStateService,
    private readonly audit: AuditLogService,
  ) {}

  @Get('blocks')
  @ApiOperation({
    summary: 'List blocked client IPs (flood and manual blocks), soonest expiry first',
  })
  @ApiResponse({
    status: 200,
    schema: openApi(z.object({ blocks: z.array(blockSchema) }), 'output'),
  })
  list(): unknown {
    return {
      blocks: this.ipFilter.listBlocked().map((b) => ({
        ip: b.ip,
        expiresAt: new Date(b.expiresAt).toISOString(),
        reason: b.reason,
      })),
    };
  }

  @Post('blocks')
  @HttpCode(200)
  @ApiOperation({ summary: 'Block a client IP by hand (429 until it expires)' })
  @ApiBody({
    schema: openApi(blockBodySchema),
    examples: { block: { value: { ip: '198.51.100.7', duration: '30m' } } },
  })
  @ApiResponse({ status: 200, schema: openApi(blockSchema, 'output') })
  @ApiResponse({ status: 400, schema: openApi(errorSchema, 'output') })
  async block(
    @Admin() ctx: AdminContext,
    @Body(new ZodValidationPipe(blockBodySchema)) body: BlockBody,
  ): Promise<unknown> {
    const durationMs = body.duration === undefined ? undefined : parseGoDuration(body.duration);
    // An IPv6 address blocks its network (RATE_LIMIT_IPV6_PREFIX), which is what is listed.
    const ip = await this.state.block(normalizeIp(body.ip.trim()), durationMs);
    const block = this.ipFilter.listBlocked().find((b) => b.ip === ip);
    const after =
      block === undefined ? null : { ...block, expiresAt: new Date(block.expiresAt).toISOString() };
    this.audit.record(ctx.actor, ctx.requestId, { action: 'block.add', target: ip, after });
    return after;
  }

  @Delete('blocks/:ip')
  @ApiOperation({ summary: 'Lift the block of one IP (on every replica)' })
  @ApiParam({ name: 'ip', example: '198.51.100.7' })
  @ApiResponse({
    status: 200,
    schema: openApi(z.object({ ip: z.string(), unblocked: z.literal(true) }), 'output'),
  })
  @ApiResponse({ status: 404, description: 'Not blocked.', schema: openApi(errorSchema, 'output') })
  async unblock(@Admin() ctx: AdminContext, @Param('ip') rawIp: string): Promise<unknown> {
    const raw = normalizeIp(rawIp.trim());
    if (raw === '' || raw.length > 64) {
      throw badRequest('invalid IP', [{ field: 'path.ip', message: 'not an IP address' }]);
    }
    // An address of a blocked IPv6 network, or the network as listed, lifts that block.
    const ip = this.ipFilter.keyOf(raw);
    const before = this.ipFilter.listBlocked().find((b) => b.ip === ip);
    const wasBlocked = await this.state.unblock(ip);
    if (!wasBlocked) {
      throw notFound(`${ip} is not blocked`);
    }
    this.audit.record(ctx.actor, ctx.requestId, {
      action: 'block.remove',
      target: ip,
      before:
        before === undefined
          ? null
          : { ...before, expiresAt: new Date(before.expiresAt).toISOString() },
      after: null,
    });
    return { ip, unblocked: true };
  }
}
