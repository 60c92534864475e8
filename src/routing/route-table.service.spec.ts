import type { Counter } from 'prom-client';
import { loadGatewayConfig } from '../config/load-config';
import type { GatewayConfig, RouteConfig } from '../config/gateway-config.types';
import { OutlierDetector } from '../load-balancing/outlier-detector';
import { StallDetector } from '../load-balancing/stall-detector';
import { UpstreamPoolsService } from '../load-balancing/upstream-pools.service';
import { RouteMatcherBuilder } from './route-matcher';
import { RouteTableService } from './route-table.service';

function setup(routes: unknown[] = []) {
  const loaded = loadGatewayConfig({
    env: { SERVICE_ROUTES: JSON.stringify(routes), DEMO_UPSTREAM: 'false' },
    cwd: '/nonexistent-gateway-dir',
    isTTY: false,
  });
  if (!loaded.ok) {
    throw new Error(loaded.problems.join('\n'));
  }
  const config: GatewayConfig = loaded.config;
  const trips = { inc: () => undefined } as unknown as Counter<string>;
  // Stall detection off: it would only start a timer over these groups.
  const stalls = new StallDetector(
    { stallMs: 0 },
    new OutlierDetector({ consecutiveFailures: 5, baseEjectionMs: 30_000 }),
  );
  const pools = new UpstreamPoolsService(config, trips, stalls);
  const table = new RouteTableService(config, pools);
  table.onModuleInit();
  return { config, pools, table };
}

const A = 'http://10.0.0.1:8080';
const B = 'http://10.0.0.2:8080';

function route(name: string, prefix: string, fields: Partial<RouteConfig> = {}): RouteConfig {
  return {
    name,
    host: '',
    prefix,
    upstreams: [{ url: `${A}/`, weight: 1 }],
    stripPrefix: false,
    requireAuth: false,
    timeoutMs: 30_000,
    preserveHost: false,
    ...fields,
  };
}

describe('RouteTableService', () => {
  it('should share one upstream group between routes with the same upstreams', async () => {
    const { table, pools } = setup([
      { name: 'one', prefix: '/one', target_url: A },
      { name: 'two', prefix: '/two', target_url: A },
      { name: 'weighted', prefix: '/w', target_url: A, weight: 3 },
      { name: 'rr', prefix: '/rr', target_url: A, algorithm: 'round-robin' },
      { name: 'probed', prefix: '/p', target_url: A, health_path: '/healthz' },
      { name: 'pair', prefix: '/pair', targets: [A, B] },
      { name: 'pair-2', prefix: '/pair2', targets: [A, B] },
      { name: 'reversed', prefix: '/rev', targets: [B, A] },
      // What counts as a failure is the group's too (its breakers' and ejections' input).
      { name: 'strict', prefix: '/s', target_url: A, failure_statuses: [500] },
      { name: 'strict-2', prefix: '/s2', target_url: A, failure_statuses: [500] },
      { name: 'strict-up', prefix: '/su', targets: [{ url: A, failure_statuses: [500] }] },
    ]);
    const group = (name: string) => table.route(name)!.group;
    expect(group('two')).toBe(group('one'));
    expect(group('pair-2')).toBe(group('pair'));
    expect(group('strict-2')).toBe(group('strict'));
    for (const other of ['weighted', 'rr', 'probed', 'pair', 'reversed', 'strict', 'strict-up']) {
      expect(group(other)).not.toBe(group('one'));
    }
    expect(group('reversed')).not.toBe(group('pair'));
    expect(group('strict-up')).not.toBe(group('strict'));
    expect([...table.groups]).toHaveLength(8);
    // Still one pool per origin.
    expect(pools.poolCount).toBe(2);
    await pools.onApplicationShutdown();
  });

  it('should keep unchanged routes as they are on replace, and say what changed', async () => {
    const { table, pools } = setup();
    const first = table.replace([route('a', '/a'), route('b', '/b'), route('c', '/c')]);
    expect(first).toEqual({ added: ['a', 'b', 'c'], changed: [], removed: [], before: [] });
    const a = table.route('a')!;
    const b = table.route('b')!;
    a.group.upstreams[0].inFlight = 2;

    // Equal but not the same objects, as a reload from the file gives them.
    const second = table.replace([
      route('a', '/a'),
      route('b', '/b2'),
      route('d', '/d', { upstreams: [{ url: `${B}/`, weight: 1 }] }),
    ]);
    expect(second).toEqual({
      added: ['d'],
      changed: ['b'],
      removed: ['c'],
      before: [b.config, route('c', '/c')],
    });
    expect(table.route('a')).toBe(a);
    expect(table.route('b')).not.toBe(b);
    // A changed route with the same upstreams keeps sharing their group and its state.
    expect(table.route('b')!.group).toBe(a.group);
    expect(table.route('b')!.group.upstreams[0].inFlight).toBe(2);
    expect(table.match('h', '/b2/x')?.value.name).toBe('b');
    expect(table.match('h', '/b/x')).toBeUndefined();
    expect(table.match('h', '/c')).toBeUndefined();
    expect(table.routes.map((r) => r.name)).toEqual(['a', 'b', 'd']);

    // A field the table does not know about still makes a route "changed".
    const extra = { ...route('a', '/a'), future: { x: 1 } } as RouteConfig;
    const d = table.route('d')!.config;
    expect(table.replace([extra, route('b', '/b2'), d]).changed).toEqual(['a']);
    await pools.onApplicationShutdown();
  });

  it('should give a route of its own upstreams while isolated, and share them again after', async () => {
    const { table, pools } = setup();
    table.replace([route('a', '/a'), route('b', '/b')]);
    const shared = table.route('a')!.group;
    const b = table.route('b')!;
    await table.isolate(new Set(['a']));
    expect(table.route('a')!.group).not.toBe(shared);
    expect(table.route('a')!.group.upstreams[0]).not.toBe(shared.upstreams[0]);
    expect(table.route('b')).toBe(b);
    await table.isolate(new Set());
    expect(table.route('a')!.group).toBe(shared);

    // Alone on its upstreams, an isolated route keeps its group (and requests in flight on it).
    table.replace([
      route('a', '/a'),
      route('b', '/b', { upstreams: [{ url: `${B}/`, weight: 1 }] }),
    ]);
    const own = table.route('b')!.group;
    await table.isolate(new Set(['b']));
    expect(table.route('b')!.group).toBe(own);
    // A route joining it on those upstreams later splits them.
    table.replace([
      ...table.routes.map((r) => r.config),
      route('c', '/c', { upstreams: [{ url: `${B}/`, weight: 1 }] }),
    ]);
    expect(table.route('c')!.group).toBe(own);
    expect(table.route('b')!.group).not.toBe(own);
    await pools.onApplicationShutdown();
  });

  it('should close the pool of an upstream no route uses any more', async () => {
    const { table, pools } = setup();
    table.replace([
      route('a', '/a'),
      route('b', '/b', { upstreams: [{ url: `${B}/`, weight: 1 }] }),
    ]);
    expect(pools.poolCount).toBe(2);
    table.replace([route('a', '/a')]);
    expect(pools.poolCount).toBe(1);
    await pools.onApplicationShutdown();
  });

  it('should build a large table in slices, serving the old one until the swap', async () => {
    const { table, pools } = setup();
    const many = (n: number, tag: string) =>
      Array.from({ length: n }, (_, i) => route(`r${i}`, `/${tag}${i}/v4`));
    table.replace(many(20_000, 'old'));
    let turns = 0;
    let sawOld = true;
    const ticker = setInterval(() => {
      turns++;
      sawOld &&= table.match('h', '/old5/v4')?.value.name === 'r5';
    }, 0);
    const pending = table.replaceAsync(many(20_000, 'new'));
    const next = table.replaceAsync([route('only', '/only')]);
    expect(table.match('h', '/old5/v4')?.value.name).toBe('r5');
    expect(() => table.replace([])).toThrow(/while replaceAsync/);
    const change = await pending;
    clearInterval(ticker);
    expect(change.changed).toHaveLength(20_000);
    // The event loop ran between slices, and saw the complete old table every time.
    expect(turns).toBeGreaterThan(0);
    expect(sawOld).toBe(true);
    expect(table.match('h', '/new5/v4')?.value.name).toBe('r5');
    // Calls apply in call order.
    expect((await next).removed).toHaveLength(20_000);
    expect(table.routes.map((r) => r.name)).toEqual(['only']);
    await pools.onApplicationShutdown();
  });

  it('should patch a few changed routes into the matcher and rebuild it for many', async () => {
    const { table, pools } = setup();
    const configs = Array.from({ length: 1000 }, (_, i) => route(`r${i}`, `/r${i}`));
    table.replace(configs);
    const adds = jest.spyOn(RouteMatcherBuilder.prototype, 'add');
    try {
      // r0 removed, r1 moved (a new object), the rest the very objects the table runs.
      const next = [...configs.slice(2), route('r1', '/moved'), route('extra', '/extra')];
      const change = await table.replaceAsync(next);
      expect(change).toMatchObject({ added: ['extra'], changed: ['r1'], removed: ['r0'] });
      expect(adds).not.toHaveBeenCalled();
      expect(table.match('h', '/moved/x')?.value.name).toBe('r1');
      expect(table.match('h', '/r1')).toBeUndefined();
      expect(table.match('h', '/r0')).toBeUndefined();
      expect(table.match('h', '/r999')?.value.name).toBe('r999');

      const many = Array.from({ length: 300 }, (_, i) => route(`m${i}`, `/m${i}`));
      await table.replaceAsync([...table.routes.map((r) => r.config), ...many]);
      expect(adds).toHaveBeenCalledTimes(table.routes.length);
      expect(table.match('h', '/m299')?.value.name).toBe('m299');
    } finally {
      adds.mockRestore();
    }
    await pools.onApplicationShutdown();
  });
});
