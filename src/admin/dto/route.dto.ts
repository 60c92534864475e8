import { z } from 'zod';
import { routeFileSchema } from '../../config/gateway-config.schema';
import { persistedSchema } from './openapi';

/** A route exactly as in the config file's `routes:` list (same schema, same rules). */
export const routeBodySchema = routeFileSchema;

export const routeExample = {
  name: 'users',
  prefix: '/api/users',
  target_url: 'http://10.0.0.5:3000',
  targets: ['http://10.0.0.6:3000'],
  strip_prefix: true,
  require_auth: false,
  health_path: '/healthz',
};

export const routeListResponseSchema = z.object({
  routes: z.array(routeFileSchema),
});

export const routeChangeResponseSchema = z.object({
  route: routeFileSchema.optional(),
  routes: z.int().meta({ description: 'Routes in the table after the change.' }),
  persisted: persistedSchema,
});

export const reloadResponseSchema = z.object({
  routes: z.int(),
  allow: z.int().meta({ description: 'Whitelist entries after the reload.' }),
  deny: z.int().meta({ description: 'Blacklist entries after the reload.' }),
  persisted: persistedSchema,
});
