import { Get, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiResponse } from '@nestjs/swagger';
import { InjectGatewayConfig } from '../../config/gateway.config';
import type { GatewayConfig } from '../../config/gateway-config.types';
import { Admin, type AdminContext } from '../admin-context';
import { AdminController } from '../admin-controller.decorator';
import { AdminStateService } from '../admin-state.service';
import { routeToFileEntry } from '../route-entries';
import { AuditLogService } from '../audit-log.service';
import { errorSchema, openApi } from '../dto/openapi';
import { reloadResponseSchema } from '../dto/route.dto';
import { maskConfig } from '../mask-config';

/** The effective configuration (secrets masked) and a reload of the config file. */
@AdminController('Config')
export class ConfigController {
  constructor(
    @InjectGatewayConfig() private readonly config: GatewayConfig,
    private readonly state: AdminStateService,
    private readonly audit: AuditLogService,
  ) {}

  @Get('config')
  @ApiOperation({
    summary: 'Effective configuration, secrets masked',
    description:
      'Settings as loaded at start, with the running routes and IP lists. JWT secret, admin token, Redis password and URL credentials are `***`; API keys appear by id.',
  })
  @ApiResponse({ status: 200, description: 'The config, as GatewayConfig JSON.' })
  get(): unknown {
    const lists = this.state.ipLists();
    const masked = maskConfig(this.config);
    return {
      ...masked,
      security: {
        ...(masked.security as object),
        ipWhitelist: lists.allow.map((e) => e.entry),
        ipBlacklist: lists.deny.map((e) => e.entry),
      },
      routes: this.state.routeEntries(),
      persistence: this.state.persistence,
    };
  }

  @Post('config/reload')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Re-read the config (GATEWAY_CONFIG file and environment) and apply routes and IP lists',
    description:
      'Validated as a whole first: an invalid file changes nothing (400 lists every problem). Other settings need a restart.',
  })
  @ApiResponse({ status: 200, schema: openApi(reloadResponseSchema, 'output') })
  @ApiResponse({ status: 400, schema: openApi(errorSchema, 'output') })
  async reload(@Admin() ctx: AdminContext): Promise<unknown> {
    const ipLists = this.state.ipLists();
    const { change, ...result } = await this.state.reloadConfig();
    // The routes the reload changed, before and after: a 20,000-route table written out twice
    // would make one audit line of megabytes.
    const after = [...change.added, ...change.changed].flatMap((name) => {
      const entry = this.state.routeEntry(name);
      return entry === undefined ? [] : [entry];
    });
    this.audit.record(ctx.actor, ctx.requestId, {
      action: 'config.reload',
      target: this.config.configFile ?? 'environment',
      before: {
        routes: change.before.map((r) => routeToFileEntry(r, this.state.defaultTimeoutMs)),
        ipLists,
      },
      after: { routes: after, ipLists: this.state.ipLists() },
      persisted: result.persisted,
    });
    return result;
  }
}
