import { Injectable } from '@nestjs/common';
import type { CompiledRoute } from '../routing/compiled-route';
import { RouteTableService } from '../routing/route-table.service';
import { IpFilterService } from '../security/ip-filter/ip-filter.service';
import { GatewayLoad } from './metrics/gateway-load';
import { LatencyWindow, RateWindow } from './metrics/traffic-windows';
import type { TrafficSnapshot, UpstreamTraffic } from './traffic-stats.types';

/** One route's counters; the recorder keeps it per compiled route, so no lookup per request. */
export class RouteStats {
  requests = 0;
  errors = 0;
  readonly latency = new LatencyWindow();
  constructor(readonly name: string) {}
}

/** One upstream's attempts as seen from one route. */
export class UpstreamStats {
  requests = 0;
  failures = 0;
}

/**
 * The gateway's own view of its traffic for `/stats`, `/monitor` and the terminal dashboard.
 * Recording is a few additions into preallocated rings (see traffic-windows.ts), constant time
 * and allocation-free; `snapshot()` walks the routes and those rings, never request history.
 */
@Injectable()
export class TrafficStatsService {
  private readonly startedAt = performance.now();
  readonly totals: TrafficSnapshot['totals'] = {
    requests: 0,
    errors: 0,
    clientErrors: 0,
    rateLimited: 0,
    blockedIps: 0,
    cacheHits: 0,
    cacheMisses: 0,
    retries: 0,
    bytesIn: 0,
    bytesOut: 0,
  };
  private readonly rate = new RateWindow();
  private readonly latency = new LatencyWindow();
  private readonly byRoute = new Map<string, RouteStats>();
  private readonly byUpstream = new Map<string, UpstreamStats>();

  constructor(
    private readonly routes: RouteTableService,
    private readonly ipFilter: IpFilterService,
    private readonly load: GatewayLoad,
  ) {}

  /** The counters for a route name (created on first use; call once per compiled route). */
  forRoute(name: string): RouteStats {
    let stats = this.byRoute.get(name);
    if (!stats) {
      stats = new RouteStats(name);
      this.byRoute.set(name, stats);
    }
    return stats;
  }

  /** The counters for an upstream of a route (call once per route and upstream). */
  forUpstream(route: string, url: string): UpstreamStats {
    const key = `${route}\u0000${url}`;
    let stats = this.byUpstream.get(key);
    if (!stats) {
      stats = new UpstreamStats();
      this.byUpstream.set(key, stats);
    }
    return stats;
  }

  /** A finished request (any outcome). `nowMs` is performance.now(). */
  recordRequest(
    route: RouteStats | undefined,
    status: number,
    durationMs: number,
    bytesIn: number,
    bytesOut: number,
    nowMs: number,
  ): void {
    const t = this.totals;
    const isError = status >= 500;
    t.requests++;
    if (isError) {
      t.errors++;
    } else if (status >= 400) {
      t.clientErrors++;
    }
    t.bytesIn += bytesIn;
    t.bytesOut += bytesOut;
    this.rate.record(isError, nowMs);
    this.latency.record(durationMs, nowMs);
    if (route) {
      route.requests++;
      if (isError) {
        route.errors++;
      }
      route.latency.record(durationMs, nowMs);
    }
  }

  /**
   * `maxRoutes` bounds the routes listed (and their upstreams): when the table has more, the
   * busiest since boot are listed, in table order, and `routesOmitted` counts the others. The
   * background samplers pass it, so a 20,000-route table does not cost a 20,000-row snapshot
   * every couple of seconds; `/stats` lists every route.
   */
  snapshot(maxRoutes = Infinity): TrafficSnapshot {
    const now = performance.now();
    const upstreams: UpstreamTraffic[] = [];
    const all = this.routes.routes;
    const listed = all.length <= maxRoutes ? all : this.busiest(all, maxRoutes);
    const routes = listed.map((r) => {
      for (const u of r.group.upstreams) {
        const counted = this.byUpstream.get(`${r.name}\u0000${u.key}`);
        upstreams.push({
          route: r.name,
          url: u.label,
          healthy: u.healthy,
          ejected: u.ejected,
          draining: u.draining,
          circuit: u.breaker?.state ?? 'closed',
          inFlight: u.inFlight,
          requests: counted?.requests ?? 0,
          failures: counted?.failures ?? 0,
        });
      }
      const stats = this.byRoute.get(r.name);
      return {
        name: r.name,
        requests: stats?.requests ?? 0,
        errors: stats?.errors ?? 0,
        latencyMs: stats ? stats.latency.summary(now) : { p50: 0, p90: 0, p99: 0, max: 0 },
      };
    });
    return {
      time: new Date().toISOString(),
      uptimeSeconds: Math.round((now - this.startedAt) / 10) / 100,
      totals: { ...this.totals, blockedIps: this.ipFilter.blockedIpsTotal },
      rates: this.rate.rates(now, this.startedAt),
      latencyMs: this.latency.summary(now),
      activeConnections: this.load.activeConnections,
      inFlight: this.load.inFlight,
      routes,
      upstreams,
      ...(listed.length < all.length ? { routesOmitted: all.length - listed.length } : {}),
    };
  }

  /** The `max` routes with the most requests (then the first idle ones), in table order. */
  private busiest(all: readonly CompiledRoute[], max: number): CompiledRoute[] {
    const busy: { route: CompiledRoute; requests: number }[] = [];
    for (const route of all) {
      const requests = this.byRoute.get(route.name)?.requests ?? 0;
      if (requests > 0) {
        busy.push({ route, requests });
      }
    }
    const chosen = new Set(
      busy
        .sort((a, b) => b.requests - a.requests)
        .slice(0, max)
        .map((b) => b.route),
    );
    for (let i = 0; i < all.length && chosen.size < max; i++) {
      chosen.add(all[i]);
    }
    return all.filter((r) => chosen.has(r));
  }
}
