import { Body, Delete, Get, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiResponse } from '@nestjs/swagger';
import { z } from 'zod';
import { Admin, type AdminContext } from '../admin-context';
import { AdminController } from '../admin-controller.decorator';
import { ApiKeysService } from '../api-keys.service';
import { AuditLogService } from '../audit-log.service';
import {
  apiKeySchema,
  createApiKeySchema,
  createdApiKeySchema,
  revokedApiKeySchema,
  type CreateApiKey,
} from '../dto/api-key.dto';
import { errorSchema, openApi } from '../dto/openapi';
import { ZodValidationPipe } from '../zod-validation.pipe';

/** API keys for proxied routes (and, with `admin: true`, for this API). */
@AdminController('API keys')
export class ApiKeysController {
  constructor(
    private readonly keys: ApiKeysService,
    private readonly audit: AuditLogService,
  ) {}

  @Get('api-keys')
  @ApiOperation({
    summary: 'List API keys (id, name, created, last used; never the key or its hash)',
  })
  @ApiResponse({
    status: 200,
    schema: openApi(z.object({ keys: z.array(apiKeySchema) }), 'output'),
  })
  async list(): Promise<unknown> {
    return { keys: await this.keys.list() };
  }

  @Post('api-keys')
  @ApiOperation({
    summary: 'Create an API key; the key is in this answer only',
    description:
      'Only its SHA-256 is stored. It works on `require_auth` routes at once (X-API-Key). `persisted` says where it is kept: `redis`, or `memory` (without Redis the key is gone at the next start).',
  })
  @ApiBody({
    schema: openApi(createApiKeySchema),
    examples: {
      service: { value: { name: 'billing-service', rate_limit: { rate: 50, burst: 100 } } },
      operator: { value: { name: 'ops-script', admin: true } },
    },
  })
  @ApiResponse({ status: 201, schema: openApi(createdApiKeySchema, 'output') })
  @ApiResponse({ status: 400, schema: openApi(errorSchema, 'output') })
  @ApiResponse({ status: 409, description: 'Name in use.', schema: openApi(errorSchema, 'output') })
  async create(
    @Admin() ctx: AdminContext,
    @Body(new ZodValidationPipe(createApiKeySchema)) body: CreateApiKey,
  ): Promise<unknown> {
    const { key, record, persisted } = await this.keys.create(body);
    this.audit.record(ctx.actor, ctx.requestId, {
      action: 'api-key.create',
      target: record.id,
      before: null,
      after: record,
      persisted,
    });
    return { ...record, key, persisted };
  }

  @Delete('api-keys/:id')
  @ApiOperation({ summary: 'Revoke an API key (refused from then on, on every replica)' })
  @ApiParam({ name: 'id', example: '9f86d081884c7d65' })
  @ApiResponse({ status: 200, schema: openApi(revokedApiKeySchema, 'output') })
  @ApiResponse({ status: 404, schema: openApi(errorSchema, 'output') })
  @ApiResponse({
    status: 409,
    description: 'Defined in API_KEYS_FILE.',
    schema: openApi(errorSchema, 'output'),
  })
  async revoke(@Admin() ctx: AdminContext, @Param('id') id: string): Promise<unknown> {
    const record = await this.keys.revoke(id);
    const persisted = this.keys.persisted;
    this.audit.record(ctx.actor, ctx.requestId, {
      action: 'api-key.revoke',
      target: id,
      before: record,
      after: null,
      persisted,
    });
    return { ...record, persisted };
  }
}
