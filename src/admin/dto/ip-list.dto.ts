import { z } from 'zod';
import { parseGoDuration } from '../../config/duration';
import { canonicalIpEntry } from '../../security/ip-filter/ip-list';
import { persistedSchema } from './openapi';

const MAX_TTL_MS = 366 * 24 * 3_600_000;

export const ipSchema = z
  .string()
  .max(64)
  .superRefine((value, ctx) => {
    try {
      canonicalIpEntry(value);
    } catch (error) {
      ctx.addIssue({
        code: 'custom',
        message: error instanceof Error ? error.message : 'not an IP address or CIDR',
      });
    }
  })
  .meta({ description: 'IPv4/IPv6 address or CIDR.', example: '203.0.113.0/24' });

export const ttlSchema = z
  .string()
  .superRefine((value, ctx) => {
    try {
      const ms = parseGoDuration(value);
      if (ms <= 0 || ms > MAX_TTL_MS) {
        ctx.addIssue({ code: 'custom', message: 'must be between 1ms and 366 days' });
      }
    } catch (error) {
      ctx.addIssue({
        code: 'custom',
        message: error instanceof Error ? error.message : 'invalid duration',
      });
    }
  })
  .meta({
    description: 'Lifetime of the entry (Go duration, e.g. `30m`); permanent when absent.',
    example: '1h',
  });

/** `POST /admin/whitelist|blacklist` body; the Go form `?ip=` is accepted as well. */
export const ipEntryBodySchema = z.strictObject({
  ip: ipSchema,
  ttl: ttlSchema.optional(),
});
export type IpEntryBody = z.infer<typeof ipEntryBodySchema>;

export const ipQuerySchema = z.object({
  ip: ipSchema.optional(),
  ttl: ttlSchema.optional(),
});
export type IpQuery = z.infer<typeof ipQuerySchema>;

export const ipDeleteBodySchema = z.strictObject({ ip: ipSchema });

export const ipListEntrySchema = z.object({
  entry: z.string().meta({ example: '203.0.113.0/24' }),
  expiresAt: z.string().optional().meta({ description: 'RFC 3339; absent for permanent entries.' }),
});

export const ipListResponseSchema = z.object({
  list: z.enum(['whitelist', 'blacklist']),
  entries: z.array(ipListEntrySchema),
});

export const ipAddedResponseSchema = z.object({
  ip: z.string().meta({ example: '203.0.113.0/24' }),
  status: z.enum(['whitelisted', 'blacklisted']).meta({ description: "The Go gateway's field." }),
  expiresAt: z.string().optional(),
  persisted: persistedSchema,
});

export const ipRemovedResponseSchema = z.object({
  ip: z.string(),
  removed: z.literal(true),
  persisted: persistedSchema,
});

export const blockSchema = z.object({
  ip: z.string().meta({ example: '198.51.100.7' }),
  expiresAt: z.string().meta({ description: 'RFC 3339' }),
  reason: z.enum(['flood', 'manual']),
});

export const blockBodySchema = z.strictObject({
  ip: z
    .string()
    .max(64)
    .superRefine((value, ctx) => {
      try {
        if (canonicalIpEntry(value).includes('/')) {
          ctx.addIssue({ code: 'custom', message: 'a block takes one address, not a CIDR' });
        }
      } catch (error) {
        ctx.addIssue({
          code: 'custom',
          message: error instanceof Error ? error.message : 'not an IP address',
        });
      }
    })
    .meta({ example: '198.51.100.7' }),
  duration: ttlSchema.optional().meta({ description: 'Default BLOCK_DURATION.', example: '10m' }),
});
export type BlockBody = z.infer<typeof blockBodySchema>;
