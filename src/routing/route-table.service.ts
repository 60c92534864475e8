import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { compileRouteCache } from '../cache/route-cache';
import { InjectGatewayConfig } from '../config/gateway.config';
import type { GatewayConfig, RouteConfig } from '../config/gateway-config.types';
import { UpstreamPoolsService } from '../load-balancing/upstream-pools.service';
import { RetryBudget } from '../resilience/retry-budget';
import type { CompiledRoute } from './compiled-route';
import { RouteMatcher, type RouteMatch } from './route-matcher';

/**
 * Holds the compiled route table. A reload builds a complete new matcher and swaps it in with one
 * assignment, so a request sees either the old table or the new one, never a mix.
 */
@Injectable()
export class RouteTableService implements OnModuleInit {
  private readonly logger = new Logger(RouteTableService.name);
  private matcher = new RouteMatcher<CompiledRoute>([]);
  private compiled: CompiledRoute[] = [];

  constructor(
    @InjectGatewayConfig() private readonly config: GatewayConfig,
    private readonly pools: UpstreamPoolsService,
  ) {}

  onModuleInit(): void {
    this.replace(this.config.routes);
  }

  /**
   * Compiles `routes` (fresh upstream groups, shared pools and breakers, new retry budgets) and
   * swaps them in. Requests already matched keep their old `CompiledRoute`; pools no route uses
   * any more are closed once those requests have finished.
   */
  replace(routes: readonly RouteConfig[]): void {
    const previous = this.compiled;
    const compiled = routes.map((r) => this.compile(r));
    this.matcher = new RouteMatcher(
      compiled.map((c) => ({ host: c.config.host, prefix: c.config.prefix, value: c })),
    );
    this.compiled = compiled;
    if (previous.length > 0) {
      const maxTimeoutMs = Math.max(0, ...previous.map((c) => c.timeoutMs));
      void this.pools.retireUnused(
        previous.flatMap((c) => c.group.upstreams),
        compiled.flatMap((c) => c.group.upstreams),
        maxTimeoutMs + 5_000,
      );
    }
    for (const c of compiled) {
      this.logger.log(
        `route ${c.name}: host=${c.config.host || '*'} prefix=${c.config.prefix} ` +
          `upstreams=${c.group.upstreams.map((u) => u.label).join(',')} strip_prefix=${c.stripPrefix}`,
      );
    }
  }

  match(host: string | undefined, path: string): RouteMatch<CompiledRoute> | undefined {
    return this.matcher.match(host, path);
  }

  get routes(): readonly CompiledRoute[] {
    return this.compiled;
  }

  private compile(route: RouteConfig): CompiledRoute {
    return {
      name: route.name,
      config: route,
      stripPrefix: route.stripPrefix && route.prefix !== '/',
      preserveHost: route.preserveHost,
      timeoutMs: route.timeoutMs,
      maxBodyBytes: route.maxBodyBytes,
      cache: compileRouteCache(route, this.config.cache),
      retryBudget: new RetryBudget({ budgetPercent: this.config.resilience.retryBudgetPercent }),
      group: this.pools.createGroup(route, route.algorithm ?? this.config.loadBalancing.algorithm),
    };
  }
}
