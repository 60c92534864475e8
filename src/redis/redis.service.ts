import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { planRedisConnection, type RedisConnectionPlan } from './redis-connection';

/** Options of {@link RedisService}; built from `config.redis` by `RedisModule`. */
export interface RedisServiceOptions {
  /**
   * `redis://[user:password@]host:port[/db]` or `rediss://…` (TLS). Undefined: no client is
   * created and every consumer keeps its state in memory.
   */
  url?: string;
  /**
   * Topology from `config.redis` (see `planRedisConnection`): standalone, Sentinel or Cluster,
   * with password and TLS. Takes precedence over `url`.
   */
  connection?: RedisConnectionPlan;
  /**
   * Longest wait for one command. Redis answers in well under a millisecond, so anything slower
   * is an outage; the caller falls back instead of holding the request.
   * @default 100
   */
  commandTimeoutMs?: number;
  /** Time allowed to open the TCP/TLS connection. @default 2000 */
  connectTimeoutMs?: number;
  /** While degraded, how often a PING checks whether Redis answers again. @default 500 */
  probeIntervalMs?: number;
  /** Extra ioredis options, merged over the defaults and the connection's (tests, tuning). */
  redisOptions?: RedisOptions;
}

type StatusListener = (ready: boolean) => void;

/**
 * The gateway's one Redis connection, shared by the rate limiter, the IP filter and later the
 * cache. Redis is an optimisation for sharing state between replicas, never a dependency of
 * serving traffic:
 *
 * - ioredis `error` events are always handled, so a dead Redis never crashes the process;
 * - `enableOfflineQueue: false` and a short `commandTimeout` make a command fail fast instead of
 *   queueing behind a dead connection, so callers fall back to local state within milliseconds;
 * - an outage is logged once when it starts and once when it ends, never per request;
 * - after a failed command (Redis up but not answering, e.g. `DEBUG SLEEP`), {@link isReady}
 *   stays false and a background PING decides when to use Redis again, so requests never probe.
 *
 * @publicApi
 */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  /**
   * Undefined when no Redis is configured. Check {@link isReady} before each use. With Redis
   * Cluster this is an ioredis `Cluster`, which has the same command methods; scripts must keep
   * all their keys in one hash slot there.
   */
  readonly client: Redis | undefined;
  /** Standalone, Sentinel or Cluster; undefined without Redis. */
  readonly topology: RedisConnectionPlan['kind'] | undefined;

  private readonly logger = new Logger(RedisService.name);
  private readonly duplicates: Redis[] = [];
  private readonly listeners = new Set<StatusListener>();
  private readonly probeIntervalMs: number;
  /** Wall-clock start of the current outage; undefined while healthy (or before the first connect). */
  private outageSince: number | undefined;
  private commandsFailing = false;
  private probe: NodeJS.Timeout | undefined;
  private closing = false;
  /** Set for Cluster only: its `duplicate` takes cluster-level options. */
  private clusterOptions: ClusterOptions | undefined;

  constructor(options: RedisServiceOptions = {}) {
    this.probeIntervalMs = options.probeIntervalMs ?? 500;
    const plan =
      options.connection ??
      (options.url === undefined
        ? undefined
        : planRedisConnection({
            url: options.url,
            sentinels: [],
            sentinelName: 'mymaster',
            clusterNodes: [],
          }));
    this.topology = plan?.kind;
    if (plan === undefined) {
      return;
    }
    const redisOptions: RedisOptions & { disconnectTimeout: number } = {
      commandTimeout: options.commandTimeoutMs ?? 100,
      connectTimeout: options.connectTimeoutMs ?? 2_000,
      enableOfflineQueue: false,
      // One try: with no offline queue a command is either sent on a live connection or fails.
      maxRetriesPerRequest: 1,
      // A command cut off by a dropped connection has been answered from local state already
      // (or timed out); replaying it after the reconnect would take a token twice.
      autoResendUnfulfilledCommands: false,
      // Reconnect forever with a capped back-off: Redis coming back must heal the gateway.
      retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
      connectionName: 'nest-edge-gateway',
      // Untyped but honoured: ioredis waits this long for a dead socket's 'close' on disconnect
      // (2 s by default), which would hold shutdown and test runs for nothing.
      disconnectTimeout: 200,
      ...plan.options,
      ...options.redisOptions,
    };
    // Loaded only when Redis is configured: ioredis costs ~9 MB of RSS a gateway without it
    // should not pay (measured with process.memoryUsage around the require).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ioredis = require('ioredis') as typeof import('ioredis');
    if (plan.kind === 'cluster') {
      const { retryStrategy, enableOfflineQueue, ...nodeOptions } = redisOptions;
      const clusterOptions: ClusterOptions = {
        redisOptions: nodeOptions,
        enableOfflineQueue,
        clusterRetryStrategy: retryStrategy,
        // A few MOVED/ASK hops happen while slots migrate; more means the cluster is broken and
        // the caller should fall back instead of chasing it.
        maxRedirections: 4,
        // TLS nodes are addressed by the names in CLUSTER SLOTS; resolving them again would
        // break certificate names on managed services (ElastiCache, Memorystore).
        ...(plan.tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
      };
      this.clusterOptions = clusterOptions;
      // Same command surface as a single connection for everything the gateway calls.
      this.client = new ioredis.Cluster(plan.nodes, clusterOptions) as unknown as Redis;
    } else {
      this.client = new ioredis.Redis(redisOptions);
    }
    this.client.on('error', (error: Error) => this.markDown(error.message));
    this.client.on('close', () => this.markDown('connection closed'));
    this.client.on('ready', () => {
      this.commandsFailing = false;
      this.markUp();
    });
  }

  /** True when Redis is configured, connected, and its last command did not fail. */
  get isReady(): boolean {
    return this.client !== undefined && this.client.status === 'ready' && !this.commandsFailing;
  }

  /**
   * Called by consumers when a command failed or timed out on a connection that looks alive.
   * Marks Redis degraded (logged once) until a background PING succeeds.
   */
  reportFailure(error: unknown): void {
    if (this.client === undefined || this.closing) {
      return;
    }
    this.commandsFailing = true;
    this.markDown(error instanceof Error ? error.message : String(error));
    this.startProbe();
  }

  /** `listener(true)` on every recovery (incl. the first connect), `listener(false)` on outage. */
  onStatusChange(listener: StatusListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * A second connection with the same options, e.g. for SUBSCRIBE (a subscribed connection can
   * run no other command). Its errors are swallowed here; outages are reported by the main one.
   * Closed with the service.
   */
  duplicate(options: RedisOptions = {}): Redis | undefined {
    if (this.client === undefined) {
      return undefined;
    }
    const copy =
      this.clusterOptions === undefined
        ? this.client.duplicate(options)
        : ((this.client as unknown as Cluster).duplicate([], {
            ...this.clusterOptions,
            ...(options.enableOfflineQueue === undefined
              ? {}
              : { enableOfflineQueue: options.enableOfflineQueue }),
            redisOptions: { ...this.clusterOptions.redisOptions, ...options },
          }) as unknown as Redis);
    copy.on('error', () => undefined);
    this.duplicates.push(copy);
    return copy;
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    this.stopProbe();
    this.listeners.clear();
    const clients = this.client === undefined ? [] : [...this.duplicates, this.client];
    // quit() lets pending replies arrive; a connection that is not up has nothing to flush.
    await Promise.all(
      clients.map(async (client) => {
        if (client.status === 'ready') {
          await client.quit().catch(() => client.disconnect());
        } else {
          client.disconnect();
        }
      }),
    );
  }

  private markDown(reason: string): void {
    if (this.closing || this.outageSince !== undefined) {
      return;
    }
    this.outageSince = Date.now();
    this.logger.warn(
      `Redis unavailable (${reason}); using per-replica in-memory state until it is back`,
    );
    this.emit(false);
  }

  private markUp(): void {
    if (this.closing) {
      return;
    }
    this.stopProbe();
    if (this.outageSince !== undefined) {
      const seconds = ((Date.now() - this.outageSince) / 1000).toFixed(1);
      this.logger.log(`Redis available again after ${seconds}s; shared state resumed`);
      this.outageSince = undefined;
    }
    this.emit(true);
  }

  private emit(ready: boolean): void {
    for (const listener of this.listeners) {
      listener(ready);
    }
  }

  private startProbe(): void {
    if (this.probe !== undefined) {
      return;
    }
    let inFlight = false;
    this.probe = setInterval(() => {
      const client = this.client;
      // While disconnected, ioredis reconnects by itself and 'ready' ends the outage.
      if (inFlight || client === undefined || client.status !== 'ready') {
        return;
      }
      inFlight = true;
      client.ping().then(
        () => {
          inFlight = false;
          this.commandsFailing = false;
          this.markUp();
        },
        () => {
          inFlight = false;
        },
      );
    }, this.probeIntervalMs);
    this.probe.unref();
  }

  private stopProbe(): void {
    if (this.probe !== undefined) {
      clearInterval(this.probe);
      this.probe = undefined;
    }
  }
}
