import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'undici';
import { InjectGatewayConfig } from '../config/gateway.config';
import type {
  GatewayConfig,
  LoadBalancingAlgorithm,
  UpstreamConfig,
} from '../config/gateway-config.types';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Counter } from 'prom-client';
import { CIRCUIT_BREAKER_TRIPS } from '../observability/metrics.constants';
import { CircuitBreaker } from '../resilience/circuit-breaker';
import { createStrategy } from './strategies/create-strategy';
import { Upstream } from './upstream';
import { UpstreamGroup } from './upstream-group';

/**
 * Owns one keep-alive undici Pool per upstream origin, created when a route table is compiled and
 * closed on shutdown. Routes that share an origin share its pool and its connections.
 */
@Injectable()
export class UpstreamPoolsService implements OnApplicationShutdown {
  private readonly logger = new Logger(UpstreamPoolsService.name);
  private readonly pools = new Map<string, Pool>();
  private readonly breakers = new Map<string, CircuitBreaker>();

  constructor(
    @InjectGatewayConfig() private readonly config: GatewayConfig,
    @InjectMetric(CIRCUIT_BREAKER_TRIPS) private readonly trips: Counter<string>,
  ) {}

  createGroup(
    upstreams: readonly UpstreamConfig[],
    algorithm: LoadBalancingAlgorithm,
  ): UpstreamGroup {
    const built = upstreams.map((u) => {
      const upstream = new Upstream(u.url, u.weight, this.poolFor(u.url));
      upstream.breaker = this.breakerFor(upstream.key);
      return upstream;
    });
    return new UpstreamGroup(built, createStrategy(algorithm));
  }

  /** Every route that names this upstream shares one breaker: it is one server's health. */
  breakerFor(key: string): CircuitBreaker {
    let breaker = this.breakers.get(key);
    if (!breaker) {
      const r = this.config.resilience;
      breaker = new CircuitBreaker({
        maxFailures: r.circuitBreakerMax,
        openMs: r.circuitBreakerTimeoutMs,
        onStateChange: (from, to) => {
          if (to === 'open') {
            this.trips.inc({ backend: key });
            this.logger.warn(`circuit breaker for ${key}: ${from} -> open`);
          } else {
            this.logger.log(`circuit breaker for ${key}: ${from} -> ${to}`);
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
