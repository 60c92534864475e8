import { isClientKey } from '../client-ip';
import type { Redis } from 'ioredis';
import type { RedisService } from '../../redis/redis.service';

/**
 * One request counted against an IP's sliding minute, atomically, and the block when the
 * estimate passes the threshold. Same two-bucket sliding-window estimate as the in-memory
 * counter (`IpFilterService`), with time from Redis `TIME`.
 *
 * KEYS: [1] counter hash, [2] block key (SET … PX: expires by itself), [3] index of blocks
 * (sorted set of `reason|ip` scored by expiry, for replicas that missed a message).
 * ARGV: [1] window ms, [2] threshold, [3] block ms, [4] ip, [5] channel.
 * Returns { 0 } counted, { 1, until } blocked by this hit, { 2, until } already blocked.
 */
export const FLOOD_HIT_LUA = `
local blocked = redis.call('GET', KEYS[2])
if blocked then
  return { 2, blocked }
end
local w = tonumber(ARGV[1])
local threshold = tonumber(ARGV[2])
local blockMs = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local idx = math.floor(now / w)
local state = redis.call('HMGET', KEYS[1], 'w', 'p', 'c')
local win = tonumber(state[1])
local prev = tonumber(state[2]) or 0
local curr = tonumber(state[3]) or 0
if win == nil or idx > win + 1 then
  prev = 0
  curr = 0
elseif idx == win + 1 then
  prev = curr
  curr = 0
end
curr = curr + 1
local estimate = prev * (1 - (now - idx * w) / w) + curr
if estimate > threshold then
  local untilMs = now + blockMs
  redis.call('SET', KEYS[2], untilMs, 'PX', blockMs)
  redis.call('ZADD', KEYS[3], untilMs, 'flood|' .. ARGV[4])
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[5], 'block ' .. ARGV[4] .. ' ' .. untilMs .. ' flood')
  return { 1, tostring(untilMs) }
end
redis.call('HSET', KEYS[1], 'w', idx, 'p', prev, 'c', curr)
redis.call('PEXPIRE', KEYS[1], 2 * w)
return { 0 }
`;

const COMMAND = 'gatewayFloodHit';

interface FloodCommands {
  [COMMAND](
    counterKey: string,
    blockKey: string,
    indexKey: string,
    windowMs: number,
    threshold: number,
    blockMs: number,
    ip: string,
    channel: string,
  ): Promise<[number, string?]>;
}

export type BlockReason = 'flood' | 'manual';

/** What the sync reports to the IP filter's local cache. */
export interface BlockSyncHandlers {
  /** A block exists in Redis (from a message, a resync, or this replica's own hit). */
  onBlock(ip: string, untilEpochMs: number, reason: BlockReason, triggeredHere: boolean): void;
  onUnblock(ip: string): void;
  /** The full set of active shared blocks, after a (re)connect or on the periodic resync. */
  onResync(blocks: ReadonlyMap<string, { until: number; reason: BlockReason }>): void;
  /** A hit could not be counted in Redis: count it locally instead. */
  onHitFailed(ip: string): void;
}

export interface RedisBlockSyncOptions {
  windowMs: number;
  threshold: number;
  blockDurationMs: number;
  /** Most blocks read by one resync. */
  maxKeys: number;
  /**
   * The braces are a Redis Cluster hash tag: every key of the flood script and of the block
   * transactions lands in one slot, so they run on Cluster as on a single Redis.
   * @default '{gw:ipf}:'
   */
  keyPrefix?: string;
  /** Safety net for missed messages (pub/sub is fire-and-forget). @default 30000 */
  resyncIntervalMs?: number;
}

/**
 * Shares flood counters and blocks between replicas through Redis, without ever putting Redis
 * on the request path's critical section:
 *
 * - the hot path reads only the local cache kept by `IpFilterService`;
 * - counting is fire-and-forget (one EVALSHA per request); a block it triggers lands in the
 *   cache when the reply arrives, so at most the requests in flight during one round-trip slip
 *   through, on the replica that crossed the threshold;
 * - other replicas learn of blocks and unblocks by pub/sub within milliseconds, and resync the
 *   whole set from the sorted-set index on every (re)connect and every 30 s, which covers
 *   messages lost while a subscriber was reconnecting.
 *
 * On Redis Cluster all these keys share one hash slot (see `keyPrefix`), so one master holds
 * the flood state; the token buckets (one key per script) spread over every master.
 */
export class RedisBlockSync {
  private readonly client: Redis | undefined;
  private readonly commands: FloodCommands | undefined;
  private readonly prefix: string;
  private readonly channel: string;
  private readonly indexKey: string;
  private readonly resyncIntervalMs: number;
  private subscriber: Redis | undefined;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribeStatus: (() => void) | undefined;

  constructor(
    private readonly redis: RedisService,
    private readonly handlers: BlockSyncHandlers,
    private readonly options: RedisBlockSyncOptions,
  ) {
    this.prefix = options.keyPrefix ?? '{gw:ipf}:';
    this.channel = `${this.prefix}events`;
    this.indexKey = `${this.prefix}blocks`;
    this.resyncIntervalMs = options.resyncIntervalMs ?? 30_000;
    this.client = redis.client;
    if (this.client !== undefined) {
      if (!(COMMAND in this.client)) {
        this.client.defineCommand(COMMAND, { numberOfKeys: 3, lua: FLOOD_HIT_LUA });
      }
      this.commands = this.client as unknown as FloodCommands;
    }
  }

  /** Redis is configured and answering: count there, not locally. */
  get active(): boolean {
    return this.commands !== undefined && this.redis.isReady;
  }

  start(): void {
    if (this.client === undefined || this.subscriber !== undefined) {
      return;
    }
    // The subscriber may queue SUBSCRIBE until it is connected, and must never time out while
    // idle: it only waits for messages.
    this.subscriber = this.redis.duplicate({ enableOfflineQueue: true, commandTimeout: undefined });
    this.subscriber?.on('message', (_channel: string, message: string) => this.onMessage(message));
    // Resync once subscribed: blocks published before that moment were not heard.
    this.subscriber
      ?.subscribe(this.channel)
      .then(() => this.resync())
      .catch(() => undefined);
    this.unsubscribeStatus = this.redis.onStatusChange((ready) => {
      if (ready) {
        this.resync();
      }
    });
    this.timer = setInterval(() => this.resync(), this.resyncIntervalMs);
    this.timer.unref();
    if (this.redis.isReady) {
      this.resync();
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.unsubscribeStatus?.();
    this.unsubscribeStatus = undefined;
    // The connection itself is closed by RedisService on shutdown.
  }

  /** Counts one request from `ip` in Redis. Never throws; results arrive through the handlers. */
  hit(ip: string): void {
    if (this.commands === undefined) {
      this.handlers.onHitFailed(ip);
      return;
    }
    const { windowMs, threshold, blockDurationMs } = this.options;
    this.commands[COMMAND](
      `${this.prefix}cnt:${ip}`,
      `${this.prefix}blk:${ip}`,
      this.indexKey,
      windowMs,
      threshold,
      blockDurationMs,
      ip,
      this.channel,
    ).then(
      ([code, until]) => {
        if (code !== 0 && until !== undefined) {
          this.handlers.onBlock(ip, Number(until), 'flood', code === 1);
        }
      },
      (error: unknown) => {
        this.redis.reportFailure(error);
        this.handlers.onHitFailed(ip);
      },
    );
  }

  /** Stores a block in Redis and tells the other replicas. Fire-and-forget. */
  publishBlock(ip: string, untilEpochMs: number, reason: BlockReason): void {
    const ttl = Math.ceil(untilEpochMs - Date.now());
    if (this.client === undefined || !this.redis.isReady || ttl <= 0) {
      return;
    }
    this.client
      .multi()
      .set(`${this.prefix}blk:${ip}`, String(untilEpochMs), 'PX', ttl)
      .zadd(this.indexKey, untilEpochMs, `${reason}|${ip}`)
      .publish(this.channel, `block ${ip} ${untilEpochMs} ${reason}`)
      .exec()
      .catch((error: unknown) => this.redis.reportFailure(error));
  }

  /** Removes a block (and the IP's counter) everywhere. Fire-and-forget. */
  publishUnblock(ip: string): void {
    if (this.client === undefined || !this.redis.isReady) {
      return;
    }
    this.client
      .multi()
      .del(`${this.prefix}blk:${ip}`, `${this.prefix}cnt:${ip}`)
      .zrem(this.indexKey, `flood|${ip}`, `manual|${ip}`)
      .publish(this.channel, `unblock ${ip}`)
      .exec()
      .catch((error: unknown) => this.redis.reportFailure(error));
  }

  /** Reads every active shared block; the handler replaces the shared part of the cache. */
  resync(): void {
    if (this.client === undefined || !this.redis.isReady) {
      return;
    }
    const now = Date.now();
    this.client
      .zrangebyscore(
        this.indexKey,
        `(${now}`,
        '+inf',
        'WITHSCORES',
        'LIMIT',
        0,
        this.options.maxKeys,
      )
      .then(
        (flat) => {
          const blocks = new Map<string, { until: number; reason: BlockReason }>();
          for (let i = 0; i + 1 < flat.length; i += 2) {
            const [reason, ip] = flat[i].split('|');
            if (ip !== undefined && isClientKey(ip)) {
              // Sorted by expiry, so a later entry for the same IP is the one in force.
              blocks.set(ip, {
                until: Number(flat[i + 1]),
                reason: reason === 'manual' ? 'manual' : 'flood',
              });
            }
          }
          this.handlers.onResync(blocks);
        },
        (error: unknown) => this.redis.reportFailure(error),
      );
    // Expired index entries are garbage only; trimming them keeps the index small.
    this.client.zremrangebyscore(this.indexKey, '-inf', now).catch(() => undefined);
  }

  /** `block <ip> <untilEpochMs> <reason>` or `unblock <ip>`; anything else is ignored. */
  private onMessage(message: string): void {
    const [op, ip, until, reason] = message.split(' ');
    if (ip === undefined || !isClientKey(ip)) {
      return;
    }
    if (op === 'unblock') {
      this.handlers.onUnblock(ip);
    } else if (op === 'block' && Number.isFinite(Number(until))) {
      this.handlers.onBlock(ip, Number(until), reason === 'manual' ? 'manual' : 'flood', false);
    }
  }
}
