import { BlockList, isIPv4 } from 'node:net';
import type { Clock } from '../../common/clock';
import { addToBlockList, normalizeIp } from '../client-ip';

export interface IpListEntry {
  /** Canonical form: `10.0.0.0/8`, `203.0.113.7`, `2001:db8::/32`. */
  entry: string;
  /** Clock time at which the entry lapses; absent for permanent entries. */
  expiresAt?: number;
}

/**
 * Canonical spelling of an IP or CIDR, so the admin API can remove what it added whatever the
 * spelling: IPv4-mapped IPv6 becomes IPv4 (`::ffff:10.0.0.0/104` is `10.0.0.0/8`), IPv6 is
 * compressed and lower-cased (`2001:0DB8::/32` is `2001:db8::/32`).
 *
 * @throws Error when `raw` is not an IP address or CIDR.
 */
export function canonicalIpEntry(raw: string): string {
  const [rawAddr, rawBits, ...rest] = raw.trim().split('/');
  if (rest.length > 0) {
    throw new Error(`not an IP address or CIDR: "${raw}"`);
  }
  const addr = normalizeIp(rawAddr);
  let bits = rawBits;
  if (addr !== rawAddr && isIPv4(addr) && bits !== undefined && /^\d+$/.test(bits)) {
    // A mapped prefix covers the IPv4 space after the 96-bit ::ffff:0:0 prefix.
    bits = String(Math.max(0, Number(bits) - 96));
  }
  const entry = bits === undefined ? addr : `${addr}/${bits}`;
  // Validates (and throws the message the config loader uses) without keeping the result.
  addToBlockList(new BlockList(), entry);
  if (isIPv4(addr)) {
    return entry;
  }
  const compressed = new URL(`http://[${addr}]/`).hostname.slice(1, -1);
  return bits === undefined ? compressed : `${compressed}/${bits}`;
}

/**
 * A set of IPs and CIDRs (IPv4 and IPv6) with O(1)-ish lookups through `net.BlockList`, plus
 * runtime additions with an optional expiry for the admin API.
 *
 * `net.BlockList` cannot remove rules, so a change rebuilds it. Changes come from operators
 * (a few per minute at most) while lookups come with every request, so that is the right side
 * to pay on. Expired entries are dropped lazily by the first lookup after the earliest expiry.
 */
export class IpList {
  private readonly entries = new Map<string, number | undefined>();
  private list = new BlockList();
  private nextExpiry = Infinity;

  constructor(
    initial: readonly string[],
    private readonly clock: Clock,
  ) {
    for (const entry of initial) {
      this.entries.set(canonicalIpEntry(entry), undefined);
    }
    this.rebuild();
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Adds (or re-adds with a new expiry) an entry.
   * @param ttlMs lifetime; permanent when undefined
   * @returns the canonical entry
   * @throws Error when `entry` is not an IP or CIDR
   */
  add(entry: string, ttlMs?: number): string {
    const canonical = canonicalIpEntry(entry);
    this.entries.set(canonical, ttlMs === undefined ? undefined : this.clock() + ttlMs);
    this.rebuild();
    return canonical;
  }

  /** @returns whether the entry was present (in any spelling). */
  remove(entry: string): boolean {
    let canonical: string;
    try {
      canonical = canonicalIpEntry(entry);
    } catch {
      return false;
    }
    const removed = this.entries.delete(canonical);
    if (removed) {
      this.rebuild();
    }
    return removed;
  }

  /**
   * Replaces every entry at once (the admin API applying persisted or replicated state).
   * Invalid or already expired entries are skipped. @returns the number kept.
   */
  replace(entries: readonly IpListEntry[], now: number = this.clock()): number {
    const next = new Map<string, number | undefined>();
    for (const { entry, expiresAt } of entries) {
      if (expiresAt !== undefined && expiresAt <= now) {
        continue;
      }
      try {
        next.set(canonicalIpEntry(entry), expiresAt);
      } catch {
        // Skipped: state written by another version or by hand must not break the list.
      }
    }
    this.entries.clear();
    for (const [entry, expiresAt] of next) {
      this.entries.set(entry, expiresAt);
    }
    this.rebuild();
    return next.size;
  }

  /** Whether a normalised client IP (as `normalizeIp` returns it) is covered. */
  has(ip: string, now?: number): boolean {
    if (this.entries.size === 0) {
      return false;
    }
    if (this.nextExpiry !== Infinity && (now ?? this.clock()) >= this.nextExpiry) {
      this.purge(now ?? this.clock());
    }
    return this.list.check(ip, ip.includes(':') ? 'ipv6' : 'ipv4');
  }

  /** Current entries, expired ones dropped first. */
  snapshot(now: number = this.clock()): IpListEntry[] {
    this.purge(now);
    return [...this.entries].map(([entry, expiresAt]) =>
      expiresAt === undefined ? { entry } : { entry, expiresAt },
    );
  }

  private purge(now: number): void {
    let changed = false;
    for (const [entry, expiresAt] of this.entries) {
      if (expiresAt !== undefined && expiresAt <= now) {
        this.entries.delete(entry);
        changed = true;
      }
    }
    if (changed) {
      this.rebuild();
    }
  }

  private rebuild(): void {
    const list = new BlockList();
    let nextExpiry = Infinity;
    for (const [entry, expiresAt] of this.entries) {
      addToBlockList(list, entry);
      if (expiresAt !== undefined && expiresAt < nextExpiry) {
        nextExpiry = expiresAt;
      }
    }
    // One assignment: a lookup never sees a half-built list.
    this.list = list;
    this.nextExpiry = nextExpiry;
  }
}
