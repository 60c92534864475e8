import { Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { type Clock, wallClock } from '../../common/clock';
import { GenerationalMap } from '../../common/generational-map';
import type { RedisService } from '../../redis/redis.service';
import { clientKey } from '../client-ip';
import { IpList, type IpListEntry } from './ip-list';
import { type BlockReason, RedisBlockSync } from './redis-block-sync';

export interface IpFilterOptions {
  /** `IP_WHITELIST`: IPs/CIDRs that skip limits and blocks. */
  allow: readonly string[];
  /** `IP_BLACKLIST`: IPs/CIDRs refused with 403. */
  deny: readonly string[];
  /** `DDOS_THRESHOLD`: more requests than this in a sliding window block the IP. @default 1000 */
  threshold: number;
  /** `BLOCK_DURATION` in ms. @default 600000 */
  blockDurationMs: number;
  /** Length of the sliding window. @default 60000 */
  windowMs?: number;
  /** `RATE_LIMIT_MAX_KEYS`: most flood counters, and most blocks, kept in memory. @default 100000 */
  maxKeys?: number;
  /**
   * `RATE_LIMIT_IPV6_PREFIX`: IPv6 clients are counted and blocked per network of this many bits
   * (see `clientKey`); 128 keeps every address apart. @default 128
   */
  ipv6Prefix?: number;
  /**
   * Epoch milliseconds. Wall clock (not monotonic) because block expiries are shared with other
   * replicas through Redis and shown by the admin API. @default Date.now
   */
  clock?: Clock;
}

/** `allow` wins over `deny`: allowlisted clients skip the denylist, limits and flood blocks. */
export type IpClass = 'allow' | 'deny' | 'none';

export interface FloodCheck {
  blocked: boolean;
  /** Seconds until the block ends (for `Retry-After`); 0 when not blocked. */
  retryAfterSeconds: number;
}

export interface BlockedIp {
  ip: string;
  /** Epoch ms at which the block ends. */
  expiresAt: number;
  reason: BlockReason;
}

interface WindowCounter {
  /** Index of the current window: floor(now / windowMs). */
  window: number;
  /** Requests in the previous window. */
  previous: number;
  /** Requests in the current window. */
  current: number;
}

interface Block {
  until: number;
  reason: BlockReason;
  /** Known to Redis (so a resync that no longer lists it means it was lifted elsewhere). */
  shared: boolean;
}

const NOT_BLOCKED: FloodCheck = Object.freeze({ blocked: false, retryAfterSeconds: 0 });

/**
 * Allow/deny lists and flood blocking (seed-spec §3.3–3.4, fixing D5 and D15).
 *
 * Flood blocking counts requests per IP in a sliding window approximated by two fixed windows
 * (Cloudflare's estimate: `previous × (1 − elapsed/window) + current`), O(1) time and three
 * numbers per IP. Unlike the Go gateway's fixed window that started at the first request, a
 * burst straddling a window edge is still seen. More than `threshold` requests in the window
 * block the IP for `blockDurationMs`; requests made while blocked are not counted, and the
 * counter restarts after the block.
 *
 * Memory is bounded: counters and blocks live in {@link GenerationalMap}s capped at `maxKeys`
 * (least recently used dropped first, O(1)); idle counters and expired blocks are swept every
 * window.
 *
 * With Redis, counters and blocks are shared by all replicas ({@link RedisBlockSync}); the
 * request path still only reads this process's cache, so Redis latency never stalls it.
 *
 * Each call runs to completion on the one JS thread, so an expired block is deleted by exactly
 * one caller: the Go gateway's read-lock delete race (D5) has no analogue here.
 *
 * @publicApi
 */
export class IpFilterService implements OnModuleInit, OnModuleDestroy {
  readonly allowlist: IpList;
  readonly denylist: IpList;

  private readonly logger = new Logger(IpFilterService.name);
  private readonly counters: GenerationalMap<WindowCounter>;
  private readonly blocks: GenerationalMap<Block>;
  private readonly clock: Clock;
  private readonly threshold: number;
  private readonly blockDurationMs: number;
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly ipv6Prefix: number;
  private readonly sync: RedisBlockSync | undefined;
  private blocksTotal = 0;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(options: IpFilterOptions, redis?: RedisService) {
    this.clock = options.clock ?? wallClock;
    this.allowlist = new IpList(options.allow, this.clock);
    this.denylist = new IpList(options.deny, this.clock);
    this.threshold = options.threshold;
    this.blockDurationMs = options.blockDurationMs;
    this.windowMs = options.windowMs ?? 60_000;
    this.maxKeys = Math.max(2, options.maxKeys ?? 100_000);
    this.ipv6Prefix = options.ipv6Prefix ?? 128;
    this.counters = new GenerationalMap(this.maxKeys);
    this.blocks = new GenerationalMap(this.maxKeys);
    if (redis?.client !== undefined) {
      this.sync = new RedisBlockSync(
        redis,
        {
          onBlock: (ip, until, reason, triggeredHere) =>
            this.applyBlock(ip, until, reason, true, triggeredHere),
          onUnblock: (ip) => this.forget(ip),
          onResync: (blocks) => this.resync(blocks),
          onHitFailed: (ip) => this.countLocally(ip, this.clock()),
        },
        {
          windowMs: this.windowMs,
          threshold: this.threshold,
          blockDurationMs: this.blockDurationMs,
          maxKeys: this.maxKeys,
        },
      );
    }
  }

  /** `blocked_ips_total`: flood blocks this replica has triggered since start. */
  get blockedIpsTotal(): number {
    return this.blocksTotal;
  }

  /** Blocks currently held (including expired ones not yet swept). */
  get blockedCount(): number {
    return this.blocks.size;
  }

  /** Flood counters currently held. */
  get trackedCount(): number {
    return this.counters.size;
  }

  /** Allowlist first: an allowlisted address inside a denied range is allowed. */
  classify(ip: string): IpClass {
    if (this.allowlist.has(ip)) {
      return 'allow';
    }
    return this.denylist.has(ip) ? 'deny' : 'none';
  }

  /**
   * What `ip` is counted and blocked as: the address, or for IPv6 its network of
   * `RATE_LIMIT_IPV6_PREFIX` bits (`2001:db8:1:2::/64`). A key passed in stays that key.
   */
  keyOf(ip: string): string {
    const slash = ip.indexOf('/');
    return clientKey(slash === -1 ? ip : ip.slice(0, slash), this.ipv6Prefix);
  }

  /** Whether `ip` (its network, for IPv6) is under a flood (or manual) block. Never touches Redis. */
  check(ip: string, now: number = this.clock()): FloodCheck {
    if (this.blocks.size === 0) {
      return NOT_BLOCKED;
    }
    const key = this.keyOf(ip);
    const block = this.blocks.get(key);
    if (block === undefined) {
      return NOT_BLOCKED;
    }
    if (block.until <= now) {
      this.blocks.delete(key);
      return NOT_BLOCKED;
    }
    if (this.allowlist.has(ip, now)) {
      return NOT_BLOCKED;
    }
    return { blocked: true, retryAfterSeconds: Math.max(1, Math.ceil((block.until - now) / 1000)) };
  }

  /**
   * Counts one request from `ip` (call it for every request that passed {@link check}).
   *
   * @returns true when this very request crossed the threshold (answer it 429 too). With Redis
   *   the count happens there and the block arrives asynchronously, so this returns false and
   *   the following requests find the block.
   */
  record(ip: string, now: number = this.clock()): boolean {
    if (this.allowlist.has(ip, now)) {
      return false;
    }
    const key = this.keyOf(ip);
    const block = this.blocks.get(key);
    if (block !== undefined && block.until > now) {
      return false;
    }
    if (this.sync?.active === true) {
      this.sync.hit(key);
      return false;
    }
    return this.countLocally(key, now);
  }

  /**
   * Blocks `ip` by hand (admin API) for `durationMs` (default `BLOCK_DURATION`); an IPv6
   * address blocks its network. @returns the key blocked.
   */
  block(ip: string, durationMs: number = this.blockDurationMs, now: number = this.clock()): string {
    const key = this.keyOf(ip);
    const until = now + durationMs;
    this.applyBlock(key, until, 'manual', false, false);
    this.sync?.publishBlock(key, until, 'manual');
    return key;
  }

  /**
   * Lifts the block of `ip` (its network for IPv6, or a key as listed) on every replica.
   * @returns whether this replica had it blocked.
   */
  unblock(ip: string, now: number = this.clock()): boolean {
    const key = this.keyOf(ip);
    const block = this.blocks.get(key);
    this.forget(key);
    this.sync?.publishUnblock(key);
    return block !== undefined && block.until > now;
  }

  /** Active blocks, soonest expiry first. */
  listBlocked(now: number = this.clock()): BlockedIp[] {
    const active: BlockedIp[] = [];
    for (const [ip, block] of this.blocks.entries()) {
      if (block.until > now) {
        active.push({ ip, expiresAt: block.until, reason: block.reason });
      }
    }
    return active.sort((a, b) => a.expiresAt - b.expiresAt);
  }

  /** Allow/deny entries, for the admin API. */
  listEntries(now: number = this.clock()): { allow: IpListEntry[]; deny: IpListEntry[] } {
    return { allow: this.allowlist.snapshot(now), deny: this.denylist.snapshot(now) };
  }

  /** Drops idle counters and expired blocks. O(n); runs on a timer, off the request path. */
  sweep(now: number = this.clock()): void {
    const current = Math.floor(now / this.windowMs);
    this.counters.deleteWhere((counter) => counter.window + 1 < current);
    this.blocks.deleteWhere((block) => block.until <= now);
  }

  onModuleInit(): void {
    if (this.sweepTimer !== undefined) {
      return;
    }
    this.sweepTimer = setInterval(() => this.sweep(), this.windowMs);
    this.sweepTimer.unref();
    this.sync?.start();
  }

  onModuleDestroy(): void {
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    this.sync?.stop();
  }

  private countLocally(ip: string, now: number): boolean {
    const window = Math.floor(now / this.windowMs);
    let counter = this.counters.get(ip);
    if (counter === undefined) {
      counter = { window, previous: 0, current: 0 };
      this.counters.set(ip, counter);
    } else {
      if (window === counter.window + 1) {
        counter.previous = counter.current;
        counter.current = 0;
        counter.window = window;
      } else if (window > counter.window + 1) {
        counter.previous = 0;
        counter.current = 0;
        counter.window = window;
      }
    }
    counter.current++;
    const elapsed = (now - window * this.windowMs) / this.windowMs;
    const estimate = counter.previous * (1 - elapsed) + counter.current;
    if (estimate <= this.threshold) {
      return false;
    }
    this.applyBlock(ip, now + this.blockDurationMs, 'flood', false, true);
    this.sync?.publishBlock(ip, now + this.blockDurationMs, 'flood');
    return true;
  }

  private applyBlock(
    ip: string,
    until: number,
    reason: BlockReason,
    shared: boolean,
    triggeredHere: boolean,
  ): void {
    const now = this.clock();
    if (until <= now) {
      return;
    }
    const existing = this.blocks.get(ip);
    this.blocks.set(ip, { until, reason, shared: shared || (existing?.shared ?? false) });
    // The counter restarts after the block, instead of re-blocking on the first request.
    this.counters.delete(ip);
    if (triggeredHere) {
      this.blocksTotal++;
      this.logger.warn(
        `IP ${JSON.stringify(ip)} blocked for ${Math.round(this.blockDurationMs / 1000)}s: more than ${this.threshold} requests in ${Math.round(this.windowMs / 1000)}s`,
      );
    }
  }

  private forget(ip: string): void {
    this.blocks.delete(ip);
    this.counters.delete(ip);
  }

  /** Replaces the shared blocks with Redis's set; pushes blocks made here while Redis was away. */
  private resync(shared: ReadonlyMap<string, { until: number; reason: BlockReason }>): void {
    const now = this.clock();
    for (const [ip, block] of [...this.blocks.entries()]) {
      if (block.until <= now) {
        this.blocks.delete(ip);
      } else if (!shared.has(ip)) {
        if (block.shared) {
          this.blocks.delete(ip);
        } else {
          block.shared = true;
          this.sync?.publishBlock(ip, block.until, block.reason);
        }
      }
    }
    for (const [ip, { until, reason }] of shared) {
      const block = this.blocks.get(ip);
      if (block === undefined || block.until !== until) {
        this.applyBlock(ip, until, reason, true, false);
      }
    }
  }
}
