import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'undici';
import { InjectGatewayConfig } from '../config/gateway.config';
import type {
  GatewayConfig,
  LoadBalancingAlgorithm,
  RouteConfig,
} from '../config/gateway-config.types';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Counter } from 'prom-client';
import { gatewayMetricFamilies } from '../observability/metrics/gateway-metrics';
import { CIRCUIT_BREAKER_TRIPS } from '../observability/metrics.constants';
import { CircuitBreaker } from '../resilience/circuit-breaker';
import { failureStatusSet } from '../resilience/classify-outcome';
import { StallDetector } from './stall-detector';
import { createStrategy } from './strategies/create-strategy';
import { Upstream } from './upstream';
import { UpstreamGroup, type PanicCounter } from './upstream-group';
import { urlLabel } from '../common/http/url-display';

/**
 * Owns one keep-alive undici Pool per upstream origin, created when a route table is compiled and
 * closed on shutdown. Routes that share an origin share its pool and its connections.
 */
@Injectable()
export class UpstreamPoolsService implements OnApplicationShutdown {
  private readonly logger = new Logger(UpstreamPoolsService.name);
  private readonly pools = new Map<string, Pool>();
  private readonly breakers = new Map<string, CircuitBreaker>();
  /** Live groups, by one of their upstreams, so a retired route stops being watched for stalls. */
  private readonly groups = new Map<Upstream, UpstreamGroup>();
  /** A route's panic series is made on its first request routed in panic, not per route at boot. */
  private readonly panics: PanicCounter = {
    inc: (route) => gatewayMetricFamilies().upstreamPanics.child(route).inc(),
  };

  constructor(
    @InjectGatewayConfig() private readonly config: GatewayConfig,
    @InjectMetric(CIRCUIT_BREAKER_TRIPS) private readonly trips: Counter<string>,
    private readonly stalls: StallDetector,
  ) {}

  /**
   * An upstream group for a route and every route with the same upstreams: one `Upstream` per
   * target (state of its own: in-flight count, ejection, drain) on shared connection pools and
   * breakers, with the failure statuses the route and each upstream count.
   */
  createGroup(
    route: Pick<RouteConfig, 'upstreams' | 'failureStatuses'>,
    algorithm: LoadBalancingAlgorithm,
  ): UpstreamGroup {
    const defaults = this.config.resilience.failureStatuses;
    const built = route.upstreams.map((u) => {
      const upstream = new Upstream(u.url, u.weight, this.poolFor(u.url));
      upstream.breaker = this.breakerFor(upstream.key);
      upstream.failureStatuses = failureStatusSet(
        defaults,
        route.failureStatuses,
        u.failureStatuses,
      );
      return upstream;
    });
    const group = new UpstreamGroup(built, createStrategy(algorithm), this.panics);
    if (built.length > 0) {
      this.groups.set(built[0], group);
      this.stalls.track(group);
    }
    return group;
  }

  /** Every route that names this upstream shares one breaker: it is one server's health. */
  breakerFor(key: string): CircuitBreaker {
    let breaker = this.breakers.get(key);
    if (!breaker) {
      const r = this.config.resilience;
      // Logs and labels show scheme, host, port and path: the key's query may hold a secret.
      const label = urlLabel(key);
      breaker = new CircuitBreaker({
        maxFailures: r.circuitBreakerMax,
        openMs: r.circuitBreakerTimeoutMs,
        failureRatePercent: r.circuitBreakerFailureRate,
        minRequests: r.circuitBreakerMinRequests,
        windowMs: r.circuitBreakerWindowMs,
        onStateChange: (from, to, cause) => {
          if (to === 'open') {
            this.trips.inc({ backend: label });
            this.logger.warn(
              `circuit breaker for ${label}: ${from} -> open (${
                cause === 'consecutive'
                  ? `${r.circuitBreakerMax} exchange failures in a row`
                  : `failure rate at or above ${r.circuitBreakerFailureRate}%`
              })`,
            );
          } else {
            this.logger.log(`circuit breaker for ${label}: ${from} -> ${to}`);
          }
        },
      });
      this.breakers.set(key, breaker);
    }
    return breaker;
  }

  private poolFor(url: string): Pool {
    const origin = new URL(url).origin;
    let pool = this.pools.get(origin);
    if (!pool) {
      const proxy = this.config.proxy;
      pool = new Pool(origin, {
        // No cap on sockets: a cap would queue long-polls and SSE behind each other.
        connections: null,
        pipelining: 1,
        keepAliveTimeout: proxy.idleConnTimeoutMs,
        keepAliveMaxTimeout: proxy.idleConnTimeoutMs,
        connect: { timeout: proxy.connectTimeoutMs },
        // Per-request values are passed on dispatch; these are the ceilings.
        headersTimeout: proxy.connectionTimeoutMs,
        bodyTimeout: proxy.connectionTimeoutMs,
        maxHeaderSize: 64 * 1024,
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  /**
   * Closes the pools (and forgets the breakers) of upstreams no route uses any more, once the
   * requests still running on them have finished: `replaced` are the upstreams of the previous
   * table, `current` those of the new one. A pool re-added meanwhile is a new pool, so closing
   * the old one never touches new traffic. Waiting is bounded by `maxWaitMs` (the longest route
   * timeout is a natural bound); undici's close() itself also lets queued requests complete.
   */
  retireUnused(
    replaced: readonly Upstream[],
    current: readonly Upstream[],
    maxWaitMs: number,
  ): Promise<void> {
    const origins = new Set(current.map((u) => u.origin));
    const keys = new Set(current.map((u) => u.key));
    for (const u of replaced) {
      if (!keys.has(u.key)) {
        this.breakers.delete(u.key);
      }
      const group = this.groups.get(u);
      if (group !== undefined) {
        this.groups.delete(u);
        this.stalls.untrack(group);
      }
    }
    const leaving = new Map<string, Upstream[]>();
    for (const u of replaced) {
      if (!origins.has(u.origin)) {
        leaving.set(u.origin, [...(leaving.get(u.origin) ?? []), u]);
      }
    }
    const closing: Promise<void>[] = [];
    for (const [origin, upstreams] of leaving) {
      const pool = this.pools.get(origin);
      if (pool === undefined || upstreams.some((u) => u.dispatcher !== pool)) {
        continue;
      }
      this.pools.delete(origin);
      closing.push(this.closeWhenIdle(origin, pool, upstreams, maxWaitMs));
    }
    return Promise.all(closing).then(() => undefined);
  }

  /** Number of pools held (one per upstream origin in use). */
  get poolCount(): number {
    return this.pools.size;
  }

  private async closeWhenIdle(
    origin: string,
    pool: Pool,
    upstreams: readonly Upstream[],
    maxWaitMs: number,
  ): Promise<void> {
    const deadline = Date.now() + maxWaitMs;
    while (upstreams.some((u) => u.inFlight > 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200).unref());
    }
    await pool.close().catch(() => pool.destroy());
    this.logger.log(`upstream pool ${origin} closed: no route uses it any more`);
  }

  async onApplicationShutdown(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(
      pools.map((p) =>
        p.close().catch((err: unknown) => {
          this.logger.warn(`closing upstream pool failed: ${String(err)}`);
          return p.destroy();
        }),
      ),
    );
  }
}
