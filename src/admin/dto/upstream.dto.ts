import { z } from 'zod';
import { persistedSchema } from './openapi';

export const upstreamSchema = z.object({
  route: z.string().meta({ example: 'users' }),
  url: z.string().meta({ example: 'http://10.0.0.5:3000/' }),
  weight: z.int(),
  healthy: z.boolean().meta({ description: 'Active health checks.' }),
  ejected: z.boolean().meta({ description: 'Passive outlier ejection.' }),
  draining: z.boolean(),
  available: z.boolean().meta({ description: 'Would be picked for a new request.' }),
  breaker: z.enum(['closed', 'open', 'half-open']),
  inFlight: z.int(),
});

export const upstreamListResponseSchema = z.object({
  upstreams: z.array(upstreamSchema),
  drains: z.array(z.object({ url: z.string(), route: z.string().optional() })),
});

/** Names an upstream by URL, on every route or on one (`route`). */
export const upstreamTargetSchema = z.strictObject({
  url: z.string().min(1).max(2048).meta({ example: 'http://10.0.0.5:3000' }),
  route: z.string().min(1).max(200).optional().meta({
    description: "Only this route's copy of the upstream; every route using it when absent.",
    example: 'users',
  }),
});
export type UpstreamTarget = z.infer<typeof upstreamTargetSchema>;

export const upstreamChangeResponseSchema = z.object({
  url: z.string(),
  route: z.string().optional(),
  affected: z.int().meta({ description: 'Upstream copies (one per route) changed.' }),
  persisted: persistedSchema.optional(),
});
