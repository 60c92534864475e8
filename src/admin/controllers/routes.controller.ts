import { Body, Delete, Get, Param, Post, Put } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiResponse } from '@nestjs/swagger';
import type { RouteFileEntry } from '../../config/gateway-config.schema';
import { Admin, type AdminContext } from '../admin-context';
import { AdminController } from '../admin-controller.decorator';
import { AdminError, badRequest, notFound } from '../admin-error';
import { AdminStateService } from '../admin-state.service';
import { AuditLogService } from '../audit-log.service';
import { hasMaskedUrl, unmaskRouteEntry } from '../masked-urls';
import { errorSchema, openApi } from '../dto/openapi';
import {
  routeBodySchema,
  routeChangeResponseSchema,
  routeExample,
  routeListResponseSchema,
} from '../dto/route.dto';

const invalid = ApiResponse({
  status: 400,
  description: 'Invalid route (same rules as the config file); the running table is unchanged.',
  schema: openApi(errorSchema, 'output'),
});

/**
 * Routes at run time. Every change is validated as a whole new table with the config file's
 * rules, then swapped in atomically: requests in flight finish on the table they started with.
 * Upstream URLs are shown masked (`?key=***`); a masked URL sent back means the configured one.
 */
@AdminController('Routes')
export class RoutesController {
  constructor(
    private readonly state: AdminStateService,
    private readonly audit: AuditLogService,
  ) {}

  @Get('routes')
  @ApiOperation({ summary: 'List the running routes, in config-file form' })
  @ApiResponse({ status: 200, schema: openApi(routeListResponseSchema, 'output') })
  list(): unknown {
    return { routes: this.state.routeEntries() };
  }

  @Post('routes')
  @ApiOperation({ summary: 'Add a route (serves traffic as soon as this answers)' })
  @ApiBody({ schema: openApi(routeBodySchema), examples: { route: { value: routeExample } } })
  @ApiResponse({ status: 201, schema: openApi(routeChangeResponseSchema, 'output') })
  @invalid
  @ApiResponse({
    status: 409,
    description: 'A route with this name exists.',
    schema: openApi(errorSchema, 'output'),
  })
  async create(@Admin() ctx: AdminContext, @Body() body: unknown): Promise<unknown> {
    const entry = this.unmask(this.validateOne(body));
    const result = await this.state.addRoute(entry);
    this.audit.record(ctx.actor, ctx.requestId, {
      action: 'route.create',
      target: result.route?.name,
      before: null,
      after: result.route,
      persisted: result.persisted,
    });
    return { route: result.route, routes: result.routes, persisted: result.persisted };
  }

  @Put('routes/:name')
  @ApiOperation({ summary: 'Replace a route (its name stays)' })
  @ApiParam({ name: 'name', example: 'users' })
  @ApiBody({ schema: openApi(routeBodySchema), examples: { route: { value: routeExample } } })
  @ApiResponse({ status: 200, schema: openApi(routeChangeResponseSchema, 'output') })
  @invalid
  @ApiResponse({ status: 404, schema: openApi(errorSchema, 'output') })
  async replace(
    @Admin() ctx: AdminContext,
    @Param('name') name: string,
    @Body() body: unknown,
  ): Promise<unknown> {
    const validated = this.validateOne(body);
    const current = this.state.routeEntry(name);
    if (current === undefined) {
      throw notFound(`no route named ${JSON.stringify(name)}`);
    }
    const entry = this.unmask(validated, current);
    if (entry.name !== undefined && entry.name.trim().toLowerCase() !== name) {
      throw badRequest('a route cannot be renamed; delete it and add the new one', [
        { field: 'body.name', message: `must be ${JSON.stringify(name)} or absent` },
      ]);
    }
    const result = await this.state.replaceRoute(name, entry);
    this.audit.record(ctx.actor, ctx.requestId, {
      action: 'route.update',
      target: name,
      before: result.before,
      after: result.route,
      persisted: result.persisted,
    });
    return { route: result.route, routes: result.routes, persisted: result.persisted };
  }

  @Delete('routes/:name')
  @ApiOperation({ summary: 'Remove a route (requests in flight on it finish)' })
  @ApiParam({ name: 'name', example: 'users' })
  @ApiResponse({ status: 200, schema: openApi(routeChangeResponseSchema, 'output') })
  @ApiResponse({ status: 404, schema: openApi(errorSchema, 'output') })
  async remove(@Admin() ctx: AdminContext, @Param('name') name: string): Promise<unknown> {
    const result = await this.state.removeRoute(name);
    this.audit.record(ctx.actor, ctx.requestId, {
      action: 'route.delete',
      target: name,
      before: result.before,
      after: null,
      persisted: result.persisted,
    });
    return { routes: result.routes, persisted: result.persisted };
  }

  /**
   * Masked upstream URLs (as this API shows them) resolved to the configured ones. The running
   * table is listed only when the entry has one: a 20,000-route table is not listed per change.
   */
  private unmask(entry: RouteFileEntry, replacing?: RouteFileEntry): RouteFileEntry {
    return hasMaskedUrl(entry)
      ? unmaskRouteEntry(entry, this.state.routeEntries(), replacing)
      : entry;
  }

  /** The entry alone first, so its problems are named `body.<field>`. */
  private validateOne(body: unknown): RouteFileEntry {
    if (body === undefined) {
      throw badRequest('a JSON route object is required', [{ field: 'body', message: 'required' }]);
    }
    try {
      this.state.buildRoutes([body], 'body');
    } catch (error) {
      if (error instanceof AdminError) {
        const details = error.details.map((d) => ({
          field: d.field.replace(/^body\[0\]/, 'body'),
          message: d.message,
        }));
        throw badRequest(
          `invalid route: ${details.map((d) => `${d.field}: ${d.message}`).join('; ')}`,
          details,
        );
      }
      throw error;
    }
    return body as RouteFileEntry;
  }
}
