import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Upstream } from '../load-balancing/upstream';
import { failureKind, isFailure, type ExchangeOutcome } from '../resilience/classify-outcome';
import type { CompiledRoute } from '../routing/compiled-route';
import { RouteTableService } from '../routing/route-table.service';
import { IpFilterService } from '../security/ip-filter/ip-filter.service';
import { GatewayLoad } from './metrics/gateway-load';
import { gatewayMetricFamilies, type GatewayMetricFamilies } from './metrics/gateway-metrics';
import type { CounterChild, HistogramChild } from './metrics/metric-families';
import { UNMATCHED_ROUTE } from './metrics.constants';
import { TrafficStatsService, type RouteStats, type UpstreamStats } from './traffic-stats.service';

/** The `method` label: the standard methods, everything else `OTHER`, so clients cannot add series. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'CONNECT'];
const OTHER_METHOD = METHODS.length;
const METHOD_INDEX = new Map(METHODS.map((m, i) => [m, i]));

function methodIndex(method: string | undefined): number {
  const i = method === undefined ? undefined : METHOD_INDEX.get(method);
  return i ?? OTHER_METHOD;
}

function methodLabel(index: number): string {
  return index === OTHER_METHOD ? 'OTHER' : METHODS[index];
}

/** What the recorder reads from a finished exchange (UpstreamExchange implements it). */
export interface RecordedExchange {
  readonly req: IncomingMessage;
  readonly route: CompiledRoute | undefined;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Set by the cache when it answered or looked up (`HIT`, `MISS`, `STALE`, …). */
  readonly cacheStatus?: string;
}

/** One attempt as the recorder sees it. */
export interface RecordedAttempt {
  readonly route: CompiledRoute | undefined;
  /** Status of the attempt's response head; 0 when none arrived. */
  readonly status: number;
  /** Error code or message of a failed attempt. */
  readonly error: string | undefined;
}

/** Cached label children and counters of one upstream of one route. */
class UpstreamSeries {
  readonly duration: HistogramChild;
  private readonly errors = new Map<string, CounterChild>();

  constructor(
    private readonly f: GatewayMetricFamilies,
    private readonly route: string,
    private readonly upstream: string,
    readonly stats: UpstreamStats,
  ) {
    this.duration = f.upstreamDuration.child(route, upstream);
  }

  error(kind: string): CounterChild {
    let c = this.errors.get(kind);
    if (!c) {
      c = this.f.upstreamErrors.child(this.route, this.upstream, kind);
      this.errors.set(kind, c);
    }
    return c;
  }
}

/**
 * Cached label children of one route (or of the unmatched requests). Built once per compiled
 * route: after that a request only indexes arrays and integer-keyed maps.
 */
class RouteSeries {
  /** `http_requests_total` children keyed by method index * 1000 + status. */
  private readonly requests = new Map<number, CounterChild>();
  private readonly durations: (HistogramChild | undefined)[] = [];
  readonly bytesIn: CounterChild;
  readonly bytesOut: CounterChild;
  readonly retries: CounterChild;
  private readonly rateLimited = new Map<string, CounterChild>();
  readonly upstreams = new WeakMap<Upstream, UpstreamSeries>();

  constructor(
    private readonly f: GatewayMetricFamilies,
    readonly name: string,
    readonly stats: RouteStats | undefined,
  ) {
    this.bytesIn = f.requestBytes.child(name);
    this.bytesOut = f.responseBytes.child(name);
    this.retries = f.retries.child(name);
  }

  request(method: number, status: number): CounterChild {
    const key = method * 1000 + status;
    let c = this.requests.get(key);
    if (!c) {
      c = this.f.requests.child(methodLabel(method), this.name, String(status));
      this.requests.set(key, c);
    }
    return c;
  }

  duration(method: number): HistogramChild {
    return (this.durations[method] ??= this.f.duration.child(methodLabel(method), this.name));
  }

  limited(policy: string): CounterChild {
    let c = this.rateLimited.get(policy);
    if (!c) {
      c = this.f.rateLimited.child(this.name, policy);
      this.rateLimited.set(policy, c);
    }
    return c;
  }
}

/**
 * The proxy's recorder: one call per finished request (`exchangeFinished`), one per attempt
 * (`attemptEnded`), one per retry and per 429. It feeds the Prometheus families and
 * TrafficStatsService from label children cached per compiled route, so per request there is no
 * string building, no label hashing and no allocation. A route added by a reload gets its
 * children on its first request.
 */
@Injectable()
export class RequestMetricsService implements OnModuleInit, OnApplicationShutdown {
  private readonly f = gatewayMetricFamilies();
  private readonly byRoute = new WeakMap<CompiledRoute, RouteSeries>();
  /** Series shared by every compiled route of one name (several reloads keep one set). */
  private readonly byName = new Map<string, RouteSeries>();
  private readonly unmatched: RouteSeries;
  private readonly removals: (() => void)[] = [];

  constructor(
    private readonly stats: TrafficStatsService,
    private readonly routes: RouteTableService,
    private readonly ipFilter: IpFilterService,
    private readonly load: GatewayLoad,
  ) {
    this.unmatched = new RouteSeries(this.f, UNMATCHED_ROUTE, undefined);
  }

  onModuleInit(): void {
    // Every configured route's series exist (at 0) before its first request, so rate() and the
    // dashboards see a route from the start; routes added by a reload get theirs on first use.
    for (const route of this.routes.routes) {
      this.series(route);
    }
    this.removals.push(
      this.f.activeConnections.addSource(() => [[[], this.load.activeConnections]]),
      this.f.blockedIps.addSource(() => [[[], this.ipFilter.blockedIpsTotal]]),
      this.f.upstreamInFlight.addSource(() => this.upstreamsInFlight()),
    );
  }

  onApplicationShutdown(): void {
    for (const remove of this.removals.splice(0)) {
      remove();
    }
  }

  /** A request is over (answered, refused or abandoned): `status` and duration as logged. */
  exchangeFinished(ex: RecordedExchange, status: number, durationMs: number): void {
    const series = ex.route ? this.series(ex.route) : this.unmatched;
    const method = methodIndex(ex.req.method);
    series.request(method, status).value++;
    series.duration(method).observe(durationMs / 1000);
    series.bytesIn.value += ex.bytesIn;
    series.bytesOut.value += ex.bytesOut;
    const cache = ex.cacheStatus;
    if (cache !== undefined) {
      if (cache === 'HIT' || cache === 'STALE') {
        this.stats.totals.cacheHits++;
      } else if (cache === 'MISS' || cache === 'EXPIRED') {
        this.stats.totals.cacheMisses++;
      }
    }
    this.stats.recordRequest(
      series.stats,
      status,
      durationMs,
      ex.bytesIn,
      ex.bytesOut,
      performance.now(),
    );
  }

  /**
   * A WebSocket upgrade is over. Counted like a request, but a 101's duration is the socket's
   * lifetime, which would wreck the latency histogram and percentiles: only refused upgrades
   * record a duration.
   */
  upgradeFinished(
    route: CompiledRoute | undefined,
    method: string | undefined,
    status: number,
    durationMs: number,
    bytesIn: number,
    bytesOut: number,
  ): void {
    const series = route ? this.series(route) : this.unmatched;
    const m = methodIndex(method);
    // No status: the client left before any answer (logged as 0), 499 as for plain requests.
    status ||= 499;
    series.request(m, status).value++;
    series.bytesIn.value += bytesIn;
    series.bytesOut.value += bytesOut;
    if (status !== 101) {
      series.duration(m).observe(durationMs / 1000);
    }
    this.stats.recordRequest(
      series.stats,
      status,
      status === 101 ? 0 : durationMs,
      bytesIn,
      bytesOut,
      performance.now(),
    );
  }

  /** An upstream attempt settled (`outcome` as the breaker judged it). */
  attemptEnded(
    attempt: RecordedAttempt,
    upstream: Upstream,
    durationMs: number,
    outcome: ExchangeOutcome,
  ): void {
    const route = attempt.route;
    if (!route) {
      return;
    }
    const series = this.series(route);
    let us = series.upstreams.get(upstream);
    if (!us) {
      us = new UpstreamSeries(
        this.f,
        route.name,
        upstream.label,
        this.stats.forUpstream(route.name, upstream.key),
      );
      series.upstreams.set(upstream, us);
    }
    us.stats.requests++;
    // An attempt the client abandoned before any answer says nothing about the upstream's speed.
    if (outcome !== 'neutral' || attempt.status > 0) {
      us.duration.observe(durationMs / 1000);
    }
    if (isFailure(outcome)) {
      us.stats.failures++;
      us.error(failureKind(outcome, attempt.status, attempt.error)).value++;
    }
  }

  retried(route: CompiledRoute | undefined): void {
    this.stats.totals.retries++;
    if (route) {
      this.series(route).retries.value++;
    }
  }

  /** A 429 from a token bucket (`policy` as in the RateLimit headers) or a flood block (`flood`). */
  rateLimited(route: CompiledRoute | undefined, policy: string): void {
    this.stats.totals.rateLimited++;
    (route ? this.series(route) : this.unmatched).limited(policy).value++;
  }

  private series(route: CompiledRoute): RouteSeries {
    let s = this.byRoute.get(route);
    if (!s) {
      s = this.byName.get(route.name);
      if (!s) {
        s = new RouteSeries(this.f, route.name, this.stats.forRoute(route.name));
        this.byName.set(route.name, s);
      }
      this.byRoute.set(route, s);
    }
    return s;
  }

  /** Requests in flight per upstream label: upstreams shown alike (a query apart) add up. */
  private *upstreamsInFlight(): Iterable<[readonly string[], number]> {
    const seen = new Set<Upstream>();
    const byLabel = new Map<string, number>();
    for (const r of this.routes.routes) {
      for (const u of r.group.upstreams) {
        if (!seen.has(u)) {
          seen.add(u);
          byLabel.set(u.label, (byLabel.get(u.label) ?? 0) + u.inFlight);
        }
      }
    }
    for (const [label, inFlight] of byLabel) {
      yield [[label], inFlight];
    }
  }
}
