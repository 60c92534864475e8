import { Body, Delete, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiResponse } from '@nestjs/swagger';
import { parseGoDuration } from '../../config/duration';
import { IpFilterService } from '../../security/ip-filter/ip-filter.service';
import { canonicalIpEntry, type IpList, type IpListEntry } from '../../security/ip-filter/ip-list';
import { Admin, type AdminContext } from '../admin-context';
import { AdminController } from '../admin-controller.decorator';
import { badRequest, notFound } from '../admin-error';
import { AdminStateService } from '../admin-state.service';
import { AuditLogService } from '../audit-log.service';
import { errorSchema, openApi } from '../dto/openapi';
import {
  ipAddedResponseSchema,
  ipDeleteBodySchema,
  ipEntryBodySchema,
  ipListResponseSchema,
  ipQuerySchema,
  ipRemovedResponseSchema,
  type IpQuery,
} from '../dto/ip-list.dto';
import { ZodValidationPipe } from '../zod-validation.pipe';

type ListName = 'whitelist' | 'blacklist';

const addBody = ApiBody({
  required: false,
  schema: openApi(ipEntryBodySchema),
  examples: {
    permanent: { value: { ip: '203.0.113.0/24' } },
    expiring: { value: { ip: '198.51.100.7', ttl: '1h' } },
  },
  description: 'Or, as in the Go gateway, no body and `?ip=…` (plus optional `&ttl=…`).',
});
const ipQuery = ApiQuery({ name: 'ip', required: false, description: 'Go-compatible form' });
const ttlQuery = ApiQuery({ name: 'ttl', required: false, description: 'Go duration, e.g. `1h`' });
const badInput = ApiResponse({
  status: 400,
  description: 'Invalid IP/CIDR or TTL.',
  schema: openApi(errorSchema, 'output'),
});

/**
 * `IP_WHITELIST` / `IP_BLACKLIST` at run time. Entries are canonicalised (so any spelling can be
 * removed), validated, and may expire.
 */
@AdminController('IP lists')
export class IpListsController {
  constructor(
    private readonly ipFilter: IpFilterService,
    private readonly state: AdminStateService,
    private readonly audit: AuditLogService,
  ) {}

  @Get('whitelist')
  @ApiOperation({ summary: 'List whitelist entries (never limited or blocked)' })
  @ApiResponse({ status: 200, schema: openApi(ipListResponseSchema, 'output') })
  listWhitelist(): unknown {
    return this.list('whitelist');
  }

  @Get('blacklist')
  @ApiOperation({ summary: 'List blacklist entries (always refused with 403)' })
  @ApiResponse({ status: 200, schema: openApi(ipListResponseSchema, 'output') })
  listBlacklist(): unknown {
    return this.list('blacklist');
  }

  @Post('whitelist')
  @HttpCode(200)
  @ApiOperation({ summary: 'Add an IP or CIDR to the whitelist, optionally with a TTL' })
  @addBody
  @ipQuery
  @ttlQuery
  @ApiResponse({ status: 200, schema: openApi(ipAddedResponseSchema, 'output') })
  @badInput
  addWhitelist(
    @Admin() ctx: AdminContext,
    @Body() body: unknown,
    @Query(new ZodValidationPipe(ipQuerySchema, 'query')) query: IpQuery,
  ): Promise<unknown> {
    return this.add('whitelist', ctx, body, query);
  }

  @Post('blacklist')
  @HttpCode(200)
  @ApiOperation({ summary: 'Add an IP or CIDR to the blacklist, optionally with a TTL' })
  @addBody
  @ipQuery
  @ttlQuery
  @ApiResponse({ status: 200, schema: openApi(ipAddedResponseSchema, 'output') })
  @badInput
  addBlacklist(
    @Admin() ctx: AdminContext,
    @Body() body: unknown,
    @Query(new ZodValidationPipe(ipQuerySchema, 'query')) query: IpQuery,
  ): Promise<unknown> {
    return this.add('blacklist', ctx, body, query);
  }

  @Delete('whitelist')
  @ApiOperation({ summary: 'Remove a whitelist entry (body `{ip}` or `?ip=`)' })
  @ApiBody({ required: false, schema: openApi(ipDeleteBodySchema) })
  @ipQuery
  @ApiResponse({ status: 200, schema: openApi(ipRemovedResponseSchema, 'output') })
  @ApiResponse({
    status: 404,
    description: 'Not in the list.',
    schema: openApi(errorSchema, 'output'),
  })
  removeWhitelist(
    @Admin() ctx: AdminContext,
    @Body() body: unknown,
    @Query(new ZodValidationPipe(ipQuerySchema, 'query')) query: IpQuery,
  ): Promise<unknown> {
    return this.remove('whitelist', ctx, body, query);
  }

  @Delete('blacklist')
  @ApiOperation({ summary: 'Remove a blacklist entry (body `{ip}` or `?ip=`)' })
  @ApiBody({ required: false, schema: openApi(ipDeleteBodySchema) })
  @ipQuery
  @ApiResponse({ status: 200, schema: openApi(ipRemovedResponseSchema, 'output') })
  @ApiResponse({
    status: 404,
    description: 'Not in the list.',
    schema: openApi(errorSchema, 'output'),
  })
  removeBlacklist(
    @Admin() ctx: AdminContext,
    @Body() body: unknown,
    @Query(new ZodValidationPipe(ipQuerySchema, 'query')) query: IpQuery,
  ): Promise<unknown> {
    return this.remove('blacklist', ctx, body, query);
  }

  private listOf(name: ListName): IpList {
    return name === 'whitelist' ? this.ipFilter.allowlist : this.ipFilter.denylist;
  }

  private list(name: ListName): unknown {
    return { list: name, entries: this.listOf(name).snapshot().map(present) };
  }

  private async add(
    name: ListName,
    ctx: AdminContext,
    rawBody: unknown,
    query: IpQuery,
  ): Promise<unknown> {
    const input =
      rawBody === undefined
        ? query.ip === undefined
          ? undefined
          : { ip: query.ip, ...(query.ttl === undefined ? {} : { ttl: query.ttl }) }
        : new ZodValidationPipe(ipEntryBodySchema).transform(rawBody);
    if (input === undefined) {
      throw badRequest('IP parameter required (body {"ip": …} or ?ip=…)', [
        { field: 'body.ip', message: 'required' },
      ]);
    }
    const list = this.listOf(name);
    const before = list.snapshot().find((e) => e.entry === canonicalIpEntry(input.ip));
    const ttlMs = input.ttl === undefined ? undefined : parseGoDuration(input.ttl);
    const entry = list.add(input.ip, ttlMs);
    const after = list.snapshot().find((e) => e.entry === entry);
    const persisted = await this.state.saveIpLists();
    this.audit.record(ctx.actor, ctx.requestId, {
      action: `${name}.add`,
      target: entry,
      before: before === undefined ? null : present(before),
      after: after === undefined ? null : present(after),
      persisted,
    });
    return {
      ip: entry,
      status: name === 'whitelist' ? 'whitelisted' : 'blacklisted',
      ...(after?.expiresAt === undefined ? {} : { expiresAt: iso(after.expiresAt) }),
      persisted,
    };
  }

  private async remove(
    name: ListName,
    ctx: AdminContext,
    rawBody: unknown,
    query: IpQuery,
  ): Promise<unknown> {
    const ip =
      rawBody === undefined
        ? query.ip
        : new ZodValidationPipe(ipDeleteBodySchema).transform(rawBody).ip;
    if (ip === undefined) {
      throw badRequest('IP parameter required (body {"ip": …} or ?ip=…)', [
        { field: 'body.ip', message: 'required' },
      ]);
    }
    const list = this.listOf(name);
    const canonical = canonicalIpEntry(ip);
    const before = list.snapshot().find((e) => e.entry === canonical);
    if (!list.remove(ip)) {
      throw notFound(`${ip} is not in the ${name}`);
    }
    const persisted = await this.state.saveIpLists();
    this.audit.record(ctx.actor, ctx.requestId, {
      action: `${name}.remove`,
      target: canonical,
      before: before === undefined ? null : present(before),
      after: null,
      persisted,
    });
    return { ip: canonical, removed: true, persisted };
  }
}

function present(entry: IpListEntry): { entry: string; expiresAt?: string } {
  return entry.expiresAt === undefined
    ? { entry: entry.entry }
    : { entry: entry.entry, expiresAt: iso(entry.expiresAt) };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
