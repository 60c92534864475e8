import type { Pool } from 'undici';
import { UpstreamPoolsService } from '../../../src/load-balancing/upstream-pools.service';
import { ProxyService } from '../../../src/proxy/proxy.service';
import { RouteTableService } from '../../../src/routing/route-table.service';
import type { TestGateway } from '../../fixtures/gateway';
import { sleep } from '../../fixtures/http';

export interface GatewayCounters {
  /** ProxyService.activeRequests: MAX_IN_FLIGHT slots held. */
  activeRequests: number;
  /** Gateway's own open request count (server 'request' until 'close'). */
  serverInFlight: number;
  /** Sum of Upstream.inFlight over every route's upstreams. */
  upstreamInFlight: number;
  /** Sum over undici pools of running + pending + queued requests. */
  poolBusy: number;
  /** Upstream sockets open (idle keep-alive ones included). */
  poolConnected: number;
}

export function counters(gw: TestGateway): GatewayCounters {
  const app = gw.gateway.app;
  const proxy = app.get(ProxyService);
  const routes = app.get(RouteTableService);
  // Private on purpose (nothing in the gateway needs it); the tests read it to find leaked slots.
  const pools: Map<string, Pool> = app.get(UpstreamPoolsService)['pools'];
  let poolBusy = 0;
  let poolConnected = 0;
  for (const pool of pools.values()) {
    const s = pool.stats;
    poolBusy += s.running + s.pending + s.queued;
    poolConnected += s.connected;
  }
  let upstreamInFlight = 0;
  for (const r of routes.routes) {
    for (const u of r.group.upstreams) {
      upstreamInFlight += u.inFlight;
    }
  }
  return {
    activeRequests: proxy.activeRequests,
    serverInFlight: gw.gateway.inFlight,
    upstreamInFlight,
    poolBusy,
    poolConnected,
  };
}

/**
 * Waits (bounded) until nothing is held: no request slot, no upstream in-flight count, no undici
 * request running or queued. Fails with the counters when something stays held: a leak.
 */
export async function expectNoLeaks(gw: TestGateway, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let c = counters(gw);
  while (c.activeRequests + c.serverInFlight + c.upstreamInFlight + c.poolBusy !== 0) {
    if (Date.now() > deadline) {
      break;
    }
    await sleep(50);
    c = counters(gw);
  }
  expect({ ...c, poolConnected: 0 }).toEqual({
    activeRequests: 0,
    serverInFlight: 0,
    upstreamInFlight: 0,
    poolBusy: 0,
    poolConnected: 0,
  });
}
