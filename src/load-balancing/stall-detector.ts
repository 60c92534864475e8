import { Logger } from '@nestjs/common';
import { monotonicClock, type Clock } from '../common/clock';
import type { OutlierDetector } from './outlier-detector';
import type { Upstream, WaitingAttempt } from './upstream';
import type { UpstreamGroup } from './upstream-group';

/** Newer attempts the peers must have answered before a quiet upstream counts as stalled. */
const MIN_PEER_ANSWERS = 3;

export interface StallDetectorOptions {
  /** `UPSTREAM_STALL_TIMEOUT`: the shortest quiet period that counts; 0 turns detection off. */
  stallMs: number;
  /** How often pools are checked. @default stallMs / 10, at most 50 ms */
  tickMs?: number;
}

/**
 * Finds an upstream that has stopped answering (a hung process, a host gone silent) long before
 * any timeout would: a hang produces no error for the breaker or ejection to count until the
 * route timeout, and by then every request sent to it has waited that long.
 *
 * An upstream of a pool of two or more is stalled when
 * - requests have been waiting on it, with no response head at all, for `stallMs` or for twice
 *   the slowest answer the pool gave in the last minute or two, whichever is longer (so a route
 *   whose answers legitimately take seconds, or a long-polling one, is judged by its own pace);
 * - and meanwhile its peers answered at least 3 requests that were sent after the quiet period
 *   began (so a slow network or a gateway under load, which would delay everyone, is not taken
 *   for one upstream's hang).
 *
 * Then it is ejected (within the usual cap of half the pool, ended by the next passed probe like
 * any ejection) and every attempt waiting on it is asked to move: an idempotent request whose
 * body was not consumed is retried on a peer; anything else (a POST, an upload) keeps waiting,
 * so nothing is ever sent twice that was not safe to send twice.
 *
 * The check runs on a timer over the waiting lists the exchanges keep on each `Upstream`
 * (linked in place, no allocation per request), only for pools with more than one upstream:
 * with a single upstream there is nowhere to move a request to.
 */
export class StallDetector {
  private readonly logger = new Logger(StallDetector.name);
  private readonly groups = new Set<UpstreamGroup>();
  private readonly stallMs: number;
  private readonly tickMs: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    options: StallDetectorOptions,
    private readonly outliers: OutlierDetector,
    private readonly clock: Clock = monotonicClock,
  ) {
    this.stallMs = options.stallMs;
    // A stall is acted on within a tick of the timeout: one check per 50 ms costs nothing
    // measurable (a few pools, each a short loop), and keeps detection well inside a second.
    this.tickMs = options.tickMs ?? Math.max(10, Math.min(50, options.stallMs / 10));
  }

  get enabled(): boolean {
    return this.stallMs > 0;
  }

  /** Starts watching a route's pool (pools of one upstream are not watched). */
  track(group: UpstreamGroup): void {
    if (!this.enabled || group.upstreams.length < 2) {
      return;
    }
    this.groups.add(group);
    this.timer ??= setInterval(() => this.tick(), this.tickMs).unref();
  }

  untrack(group: UpstreamGroup): void {
    this.groups.delete(group);
    if (this.groups.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** One check of every watched pool. The timer calls it; tests call it with their clock. */
  tick(now: number = this.clock()): void {
    for (const group of this.groups) {
      for (const upstream of group.upstreams) {
        if (upstream.waitHead !== undefined) {
          this.check(upstream, now);
        }
      }
    }
  }

  dispose(): void {
    if (this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    this.groups.clear();
  }

  private check(upstream: Upstream, now: number): void {
    const oldest = upstream.waitHead!;
    const quietSince = Math.max(
      upstream.lastAnswerAt,
      oldest.waitStartedAt,
      upstream.stallHandledAt,
    );
    const threshold = Math.max(this.stallMs, 2 * upstream.activity.slowestMs(now));
    if (now - quietSince < threshold) {
      return;
    }
    // The peers' answers are the only ones that can have started after `quietSince`: this
    // upstream answered nothing since then.
    if (upstream.activity.answeredStartedAfter(quietSince) < MIN_PEER_ANSWERS) {
      return;
    }
    upstream.stallHandledAt = now;
    const wasEjected = upstream.ejected;
    const quietMs = Math.round(now - quietSince);
    const ejected = this.outliers.eject(upstream, `stalled: no answer for ${quietMs} ms`);
    // Collected first: moving an attempt unlinks it from the list being walked.
    const waiting: WaitingAttempt[] = [];
    for (let a: WaitingAttempt | undefined = oldest; a !== undefined; a = a.waitNext) {
      waiting.push(a);
    }
    let moved = 0;
    for (const attempt of waiting) {
      if (attempt.stalled()) {
        moved++;
      }
    }
    if (moved > 0 || (ejected && !wasEjected)) {
      this.logger.warn(
        `upstream ${upstream.label} stalled: no response for ${quietMs} ms while its peers ` +
          `answered newer requests; ${moved} of ${waiting.length} waiting request(s) moved to a peer` +
          (ejected ? '' : ' (not ejected: the pool is at its ejection cap)'),
      );
    }
  }
}
