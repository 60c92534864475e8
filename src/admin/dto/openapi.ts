import type { OpenAPIObject } from '@nestjs/swagger';
import { z } from 'zod';
import { PERSISTED } from '../state/admin-state-store';

type SchemaObject = Exclude<
  NonNullable<NonNullable<OpenAPIObject['components']>['schemas']>[string],
  { $ref: string }
>;

/**
 * OpenAPI 3.0 schema of a zod schema, so the documented shapes are the validated ones (one
 * source of truth for validation and Swagger).
 */
export function openApi(schema: z.ZodType, io: 'input' | 'output' = 'input'): SchemaObject {
  return z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io,
    unrepresentable: 'any',
  }) as SchemaObject;
}

/** The gateway's error body; `details` only on validation errors. */
export const errorSchema = z.object({
  statusCode: z.int().meta({ example: 400 }),
  error: z.string().meta({ example: 'Bad Request' }),
  message: z.string().meta({ example: 'invalid body: body.ip: not an IP address or CIDR' }),
  requestId: z.string().meta({ example: '0f8f2c8e-0d7c-4a4e-9a43-1f0c6d6f9b11' }),
  details: z
    .array(z.object({ field: z.string(), message: z.string() }))
    .optional()
    .meta({ description: 'One entry per invalid field.' }),
});

/** Where a change was kept: `redis`, `config-file`, `memory`, or `failed` (applied locally only). */
export const persistedSchema = z
  .enum(PERSISTED)
  .meta({ description: 'Where the change was persisted (see README "Admin API").' });
