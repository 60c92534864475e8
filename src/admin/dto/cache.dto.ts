import { z } from 'zod';

const target = z
  .string()
  .min(1)
  .max(8192)
  .refine((v) => v.startsWith('/') || /^https?:\/\//i.test(v), {
    error: 'expected a path (`/a?b=1`, every host) or an absolute http(s) URL (that host only)',
  });

/** Exactly one of `url` (one URL, all its variants) or `prefix` (every URL starting with it). */
export const cachePurgeSchema = z
  .strictObject({
    url: target.optional().meta({ example: '/api/products?page=1' }),
    prefix: target.optional().meta({ example: 'https://api.example.com/api/products' }),
  })
  .refine((v) => (v.url === undefined) !== (v.prefix === undefined), {
    error: 'give exactly one of url or prefix',
  });
export type CachePurge = z.infer<typeof cachePurgeSchema>;

export const cachePurgeResponseSchema = z.object({
  url: z.string().optional(),
  prefix: z.string().optional(),
  removed: z.int().meta({ description: 'Stored URLs removed (all variants of each).' }),
});

export const cacheStatsSchema = z.object({
  store: z.enum(['memory', 'redis']),
  redisReady: z.boolean(),
  memoryEntries: z.int(),
  memoryBytes: z.int(),
  memoryMaxBytes: z.int(),
  evictions: z.int(),
  hits: z.int(),
  misses: z.int(),
  stale: z.int(),
  bypass: z.int(),
  stores: z.int(),
  coalesced: z.int(),
});
