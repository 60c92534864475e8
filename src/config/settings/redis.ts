import { collectEach, parseListenAddress, splitList } from '../env-parsers';
import type { RedisConfig } from '../gateway-config.types';
import type { Report } from '../loader/report';
import { type Settings, withDefined } from '../loader/settings';
import { area, list, text, setting } from './setting';
import { z } from 'zod';

const nodeList = (raw: string): { host: string; port: number }[] =>
  collectEach(splitList(raw), (item) => parseListenAddress(item, 'localhost'));

export const REDIS = area({
  section: 'redis',
  title: 'Redis',
  settings: {
    url: setting({
      env: 'REDIS_URL',
      key: 'url',
      description:
        'Redis URL (`redis://` or `rediss://`) for shared state; unset means in-memory only.',
      type: 'URL',
      schema: z.string(),
      parse: parseRedisUrl,
      default: undefined,
    }),
    addr: setting({
      env: 'REDIS_ADDR',
      key: 'addr',
      description: 'Redis `host:port`, the Go gateway spelling of `url`.',
      type: 'host:port',
      schema: z.string(),
      parse: (raw): string | undefined => {
        const address = parseListenAddress(raw, 'localhost');
        const host = address.host.includes(':') ? `[${address.host}]` : address.host;
        return `redis://${host}:${address.port}`;
      },
      default: undefined,
    }),
    password: text({
      env: 'REDIS_PASSWORD',
      key: 'password',
      description:
        'Redis password when the URL carries none. Secret: prefer the REDIS_PASSWORD environment variable.',
      trim: false,
    }),
    sentinels: list({
      env: 'REDIS_SENTINELS',
      key: 'sentinels',
      description: 'Redis Sentinel `host:port` list; the master is found by `sentinel_name`.',
      type: 'host:port list',
      parse: nodeList,
      default: [],
    }),
    sentinelName: text({
      env: 'REDIS_SENTINEL_NAME',
      key: 'sentinel_name',
      description: 'Master group name asked of the sentinels.',
      default: 'mymaster',
    }),
    clusterNodes: list({
      env: 'REDIS_CLUSTER_NODES',
      key: 'cluster_nodes',
      description: 'Redis Cluster seed nodes, `host:port`.',
      type: 'host:port list',
      parse: nodeList,
      default: [],
    }),
  },
});

/**
 * `REDIS_URL`, or Go's `REDIS_ADDR` (`host:port`). Go defaulted to `localhost:6379`; here unset
 * means no Redis, so a gateway never silently depends on a local Redis that is not there.
 */
export function readRedis(settings: Settings, report: Report): RedisConfig {
  const { password, sentinels, sentinelName, clusterNodes } = REDIS.settings;
  const topology = {
    ...withDefined('password', settings.value(password)),
    sentinels: settings.value(sentinels),
    sentinelName: settings.value(sentinelName),
    clusterNodes: settings.value(clusterNodes),
  };
  if (topology.sentinels.length > 0 && topology.clusterNodes.length > 0) {
    report.problem(sentinels.env, `conflicts with ${clusterNodes.env}; set only one`);
  }
  return { ...readRedisUrl(settings, report), ...topology };
}

function readRedisUrl(settings: Settings, report: Report): { url?: string } {
  const { url: urlSetting, addr: addrSetting } = REDIS.settings;
  const [url, addr] = settings.rawGroup([urlSetting.env, addrSetting.env]);
  if (url !== undefined && addr !== undefined) {
    report.problem(url.label, `conflicts with ${addr.label}; set only one`);
    return {};
  }
  const source = url !== undefined ? urlSetting : addrSetting;
  const raw = url ?? addr;
  return withDefined('url', raw === undefined ? undefined : settings.parseRaw(source, raw));
}

function parseRedisUrl(raw: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new Error('invalid Redis URL (expected redis://host:port or rediss://host:port)');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new Error(`unsupported scheme "${parsed.protocol}" (expected redis: or rediss:)`);
  }
  return raw;
}

/** Redis is configured in some topology (a URL alone, or sentinels / cluster seeds). */
export function isRedisConfigured(config: RedisConfig): boolean {
  return config.url !== undefined || config.sentinels.length > 0 || config.clusterNodes.length > 0;
}
