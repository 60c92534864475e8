import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { RedisOptions } from 'ioredis';
import type { RedisConfig } from '../config/gateway-config.types';
import { isRedisConfigured } from '../config/settings/redis';

/**
 * How to reach Redis, decided once from `config.redis` (REDIS_URL / REDIS_ADDR, REDIS_PASSWORD,
 * REDIS_SENTINELS + REDIS_SENTINEL_NAME, REDIS_CLUSTER_NODES). Pure: no client is created here,
 * so every topology is testable without a sentinel or a cluster.
 */
export type RedisConnectionPlan =
  | {
      kind: 'standalone' | 'sentinel';
      /** Complete ioredis options (host/port or sentinels, credentials, TLS, db). */
      options: RedisOptions;
      /** For logs: never carries a password. */
      description: string;
    }
  | {
      kind: 'cluster';
      nodes: { host: string; port: number }[];
      /** Options of each node connection (credentials, TLS). */
      options: RedisOptions;
      /** `true` when the nodes speak TLS (ioredis then needs `dnsLookup` passed through). */
      tls: boolean;
      description: string;
    };

interface UrlParts {
  host?: string;
  port?: number;
  username?: string;
  password?: string;
  db?: number;
  tls: boolean;
}

function parseRedisUrl(url: string | undefined): UrlParts {
  if (url === undefined) {
    return { tls: false };
  }
  // The config loader has validated the URL and its scheme already.
  const parsed = new URL(url);
  const parts: UrlParts = { tls: parsed.protocol === 'rediss:' };
  if (parsed.hostname !== '') {
    parts.host = parsed.hostname.replace(/^\[|\]$/g, '');
  }
  parts.port = parsed.port === '' ? 6379 : Number(parsed.port);
  if (parsed.username !== '') {
    parts.username = decodeURIComponent(parsed.username);
  }
  if (parsed.password !== '') {
    parts.password = decodeURIComponent(parsed.password);
  }
  const db = parsed.pathname.replace(/^\//, '');
  if (/^[0-9]+$/.test(db)) {
    parts.db = Number(db);
  }
  return parts;
}

/** `rediss://`: TLS with certificate verification (Node's default CAs) and SNI for names. */
function tlsOptions(host: string | undefined): ConnectionOptions {
  // SNI must be a DNS name: Node warns on (and servers ignore) an IP address there.
  return host !== undefined && isIP(host) === 0 ? { servername: host } : {};
}

function credentials(url: UrlParts, config: RedisConfig): RedisOptions {
  const options: RedisOptions = {};
  if (url.username !== undefined) {
    options.username = url.username;
  }
  // A password in the URL wins; REDIS_PASSWORD keeps it out of the URL (and out of logs).
  const password = url.password ?? config.password;
  if (password !== undefined) {
    options.password = password;
  }
  return options;
}

/** Undefined when no Redis is configured: consumers keep their state in memory. */
export function planRedisConnection(config: RedisConfig): RedisConnectionPlan | undefined {
  if (!isRedisConfigured(config)) {
    return undefined;
  }
  const url = parseRedisUrl(config.url);
  const auth = credentials(url, config);
  const secure = url.tls ? ' (TLS)' : '';
  const list = (nodes: { host: string; port: number }[]): string =>
    nodes.map((n) => `${n.host}:${n.port}`).join(',');

  if (config.clusterNodes.length > 0) {
    return {
      kind: 'cluster',
      nodes: config.clusterNodes.map((n) => ({ host: n.host, port: n.port })),
      // No pinned SNI: each node has its own name, learned from CLUSTER SLOTS.
      options: url.tls ? { ...auth, tls: {} } : auth,
      tls: url.tls,
      description: `cluster ${list(config.clusterNodes)}${secure}`,
    };
  }
  if (config.sentinels.length > 0) {
    const options: RedisOptions = {
      ...auth,
      sentinels: config.sentinels.map((n) => ({ host: n.host, port: n.port })),
      name: config.sentinelName,
    };
    if (url.db !== undefined) {
      options.db = url.db;
    }
    if (url.tls) {
      // Both the sentinels and the master they name speak TLS; the master's name is only known
      // at connect time, so no SNI is pinned here.
      options.tls = {};
      options.sentinelTLS = {};
      options.enableTLSForSentinelMode = true;
    }
    return {
      kind: 'sentinel',
      options,
      description: `sentinel master "${config.sentinelName}" via ${list(config.sentinels)}${secure}`,
    };
  }
  const options: RedisOptions = { ...auth, host: url.host ?? 'localhost', port: url.port ?? 6379 };
  if (url.db !== undefined) {
    options.db = url.db;
  }
  if (url.tls) {
    options.tls = tlsOptions(url.host);
  }
  return {
    kind: 'standalone',
    options,
    description: `${options.host}:${options.port}${url.db ? `/${url.db}` : ''}${secure}`,
  };
}
