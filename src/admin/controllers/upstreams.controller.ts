import { Body, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse } from '@nestjs/swagger';
import { RouteTableService } from '../../routing/route-table.service';
import { Admin, type AdminContext } from '../admin-context';
import { AdminController } from '../admin-controller.decorator';
import { badRequest, notFound } from '../admin-error';
import { AdminStateService, type DrainRule } from '../admin-state.service';
import { AuditLogService } from '../audit-log.service';
import { unmaskUrl } from '../masked-urls';
import { errorSchema, openApi } from '../dto/openapi';
import {
  upstreamChangeResponseSchema,
  upstreamListResponseSchema,
  upstreamTargetSchema,
  type UpstreamTarget,
} from '../dto/upstream.dto';
import { ZodValidationPipe } from '../zod-validation.pipe';

const targetBody = ApiBody({
  schema: openApi(upstreamTargetSchema),
  examples: {
    everywhere: { value: { url: 'http://10.0.0.5:3000' } },
    oneRoute: { value: { url: 'http://10.0.0.5:3000', route: 'users' } },
  },
});
const unknownUpstream = ApiResponse({
  status: 404,
  description: 'No route uses this upstream.',
  schema: openApi(errorSchema, 'output'),
});

/** Upstream state, drains and circuit breakers. */
@AdminController('Upstreams')
export class UpstreamsController {
  constructor(
    private readonly table: RouteTableService,
    private readonly state: AdminStateService,
    private readonly audit: AuditLogService,
  ) {}

  @Get('upstreams')
  @ApiOperation({
    summary: 'Every upstream of every route: health, breaker, drain, requests in flight',
  })
  @ApiResponse({ status: 200, schema: openApi(upstreamListResponseSchema, 'output') })
  list(): unknown {
    return {
      upstreams: this.table.routes.flatMap((route) =>
        route.group.upstreams.map((u) => ({
          route: route.name,
          url: u.key,
          weight: u.weight,
          healthy: u.healthy,
          ejected: u.ejected,
          draining: u.draining,
          available: u.isAvailable(),
          breaker: u.breaker?.state ?? 'closed',
          inFlight: u.inFlight,
        })),
      ),
      drains: this.state.drains,
    };
  }

  @Post('upstreams/drain')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Drain an upstream: no new requests are sent to it, requests in flight finish',
  })
  @targetBody
  @ApiResponse({ status: 200, schema: openApi(upstreamChangeResponseSchema, 'output') })
  @unknownUpstream
  async drain(
    @Admin() ctx: AdminContext,
    @Body(new ZodValidationPipe(upstreamTargetSchema)) body: UpstreamTarget,
  ): Promise<unknown> {
    const rule = this.rule(body);
    const affected = this.copies(rule).length;
    const before = this.state.drains;
    const rules = [...before.filter((r) => !sameRule(r, rule)), rule];
    const persisted = await this.state.setDrains(rules);
    this.audit.record(ctx.actor, ctx.requestId, {
      action: 'upstream.drain',
      target: rule.route === undefined ? rule.url : `${rule.route} ${rule.url}`,
      before,
      after: rules,
      persisted,
    });
    return { ...rule, affected, persisted };
  }

  @Post('upstreams/enable')
  @HttpCode(200)
  @ApiOperation({ summary: 'Undo a drain: the upstream takes new requests again' })
  @targetBody
  @ApiResponse({ status: 200, schema: openApi(upstreamChangeResponseSchema, 'output') })
  @unknownUpstream
  async enable(
    @Admin() ctx: AdminContext,
    @Body(new ZodValidationPipe(upstreamTargetSchema)) body: UpstreamTarget,
  ): Promise<unknown> {
    const rule = this.rule(body);
    const before = this.state.drains;
    // Enabling everywhere lifts per-route drains of that URL too.
    const rules = before.filter(
      (r) => !(r.url === rule.url && (rule.route === undefined || r.route === rule.route)),
    );
    const persisted = await this.state.setDrains(rules);
    this.audit.record(ctx.actor, ctx.requestId, {
      action: 'upstream.enable',
      target: rule.route === undefined ? rule.url : `${rule.route} ${rule.url}`,
      before,
      after: rules,
      persisted,
    });
    return { ...rule, affected: this.copies(rule).length, persisted };
  }

  @Post('upstreams/reset-breaker')
  @HttpCode(200)
  @ApiOperation({ summary: "Close an upstream's circuit breaker (shared by every route using it)" })
  @ApiBody({
    schema: openApi(upstreamTargetSchema),
    examples: { reset: { value: { url: 'http://10.0.0.5:3000' } } },
  })
  @ApiResponse({ status: 200, schema: openApi(upstreamChangeResponseSchema, 'output') })
  @unknownUpstream
  async resetBreaker(
    @Admin() ctx: AdminContext,
    @Body(new ZodValidationPipe(upstreamTargetSchema)) body: UpstreamTarget,
  ): Promise<unknown> {
    const rule = this.rule(body);
    const { before, after } = await this.state.resetBreaker(rule.url);
    this.audit.record(ctx.actor, ctx.requestId, {
      action: 'upstream.reset-breaker',
      target: rule.url,
      before,
      after,
    });
    return { url: rule.url, affected: this.copies({ url: rule.url }).length };
  }

  /**
   * Normalises the URL (a masked one, as listed, stands for the configured upstream it was shown
   * for) and checks that some route (the named one) uses it.
   */
  private rule(body: UpstreamTarget): DrainRule {
    let url: string;
    const keys = this.table.routes.flatMap((r) => r.group.upstreams.map((u) => u.key));
    const sent = unmaskUrl(body.url, keys, 'body.url');
    try {
      url = AdminStateService.upstreamKey(sent);
    } catch (error) {
      throw badRequest('invalid upstream URL', [
        { field: 'body.url', message: error instanceof Error ? error.message : 'invalid URL' },
      ]);
    }
    const rule: DrainRule = body.route === undefined ? { url } : { url, route: body.route };
    if (this.copies(rule).length === 0) {
      throw notFound(
        body.route === undefined
          ? `no route uses upstream ${url}`
          : `route ${JSON.stringify(body.route)} has no upstream ${url}`,
      );
    }
    return rule;
  }

  private copies(rule: DrainRule): unknown[] {
    return this.table.routes
      .filter((r) => rule.route === undefined || r.name === rule.route)
      .flatMap((r) => r.group.upstreams.filter((u) => u.key === rule.url));
  }
}

function sameRule(a: DrainRule, b: DrainRule): boolean {
  return a.url === b.url && a.route === b.route;
}
