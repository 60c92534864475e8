import { z } from 'zod';
import { persistedSchema } from './openapi';

export const createApiKeySchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9._:@-]{1,64}$/, { error: 'letters, digits and ._:@- only, at most 64' })
    .meta({ example: 'billing-service' }),
  admin: z.boolean().optional().meta({ description: 'May call the admin API.', default: false }),
  rate_limit: z
    .strictObject({
      rate: z.number().positive().meta({ example: 50 }),
      burst: z.int().min(1).optional().meta({ example: 100 }),
    })
    .optional()
    .meta({ description: "The key's own token bucket (requests per second, capacity)." }),
});
export type CreateApiKey = z.infer<typeof createApiKeySchema>;

export const apiKeySchema = z.object({
  id: z.string().meta({
    description: 'First 16 hex digits of the SHA-256 of the key.',
    example: '9f86d081884c7d65',
  }),
  name: z.string().optional(),
  admin: z.boolean(),
  source: z
    .enum(['file', 'admin', 'redis'])
    .meta({ description: 'API_KEYS_FILE, memory, or Redis.' }),
  createdAt: z.string().optional().meta({ description: 'RFC 3339' }),
  lastUsedAt: z
    .string()
    .optional()
    .meta({ description: 'RFC 3339; uses seen by this replica since it started.' }),
});

/** `redis`, or `memory`: without Redis, admin-created keys are gone at the next start. */
const keyPersistedSchema = persistedSchema.extract(['redis', 'memory']).meta({
  description:
    'Where the key is kept: `redis` (every replica, survives restarts) or `memory` (this process until it stops).',
});

export const createdApiKeySchema = apiKeySchema.extend({
  key: z.string().meta({
    description: 'The key itself. Shown only in this answer: only its SHA-256 is stored.',
    example: 'gw_3q2-7wMDt2o0s9jYV8x1Ww5mQk6HfN1yZ2a4c6e8g0I',
  }),
  persisted: keyPersistedSchema,
});

export const revokedApiKeySchema = apiKeySchema.extend({ persisted: keyPersistedSchema });
