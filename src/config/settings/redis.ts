import type { RedisConfig } from '../gateway-config.types';

/** Redis is configured in some topology (a URL alone, or sentinels / cluster seeds). */
export function isRedisConfigured(config: RedisConfig): boolean {
  return config.url !== undefined || config.sentinels.length > 0 || config.clusterNodes.length > 0;
}
