import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis, RedisOptions } from 'ioredis';

/** Options of {@link RedisService}; built from `config.redis` by `RedisModule`. */
export interface RedisServiceOptions {
  /**
   * `redis://[user:password@]host:port[/db]` or `rediss://…` (TLS). Undefined: no client is
   * created and every consumer keeps its state in memory.
   */
  url?: string;
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
  /**
   * Extra ioredis options, merged over the defaults: TLS settings, `sentinels` + `name` for
   * Sentinel later, and so on. (Cluster needs `new Cluster(...)`, a later change here only.)
   */
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
  /** Undefined when no Redis is configured. Check {@link isReady} before each use. */
  readonly client: Redis | undefined;

  private readonly logger = new Logger(RedisService.name);
  private readonly duplicates: Redis[] = [];
  private readonly listeners = new Set<StatusListener>();
  private readonly probeIntervalMs: number;
  /** Wall-clock start of the current outage; undefined while healthy (or before the first connect). */
  private outageSince: number | undefined;
  private commandsFailing = false;
  private probe: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(options: RedisServiceOptions = {}) {
    this.probeIntervalMs = options.probeIntervalMs ?? 500;
    if (options.url === undefined) {
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
      ...options.redisOptions,
    };
    // Loaded only when Redis is configured: ioredis costs ~9 MB of RSS a gateway without it
    // should not pay (measured with process.memoryUsage around the require).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Redis: RedisClient } = require('ioredis') as typeof import('ioredis');
    this.client = new RedisClient(options.url, redisOptions);
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
    const copy = this.client.duplicate(options);
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
