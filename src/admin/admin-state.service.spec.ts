import { Logger } from '@nestjs/common';
import type { HttpCacheService } from '../cache/http-cache.service';
import { SYNC } from '../cluster/sync-messages';
import { WorkerSync, type SyncChannel } from '../cluster/worker-sync';
import type { GatewayConfig, RouteConfig } from '../config/gateway-config.types';
import type { UpstreamPoolsService } from '../load-balancing/upstream-pools.service';
import { ConfigReloadService } from '../reload/config-reload.service';
import type { RouteTableChange, RouteTableService } from '../routing/route-table.service';
import type { ApiKeyStore } from '../security/auth/api-key-store';
import { IpFilterService } from '../security/ip-filter/ip-filter.service';
import { AdminError } from './admin-error';
import { AdminStateService } from './admin-state.service';
import {
  AdminStateStore,
  type AdminStateListener,
  type DrainRule,
  type IpListsState,
  type Persisted,
  type RouteState,
} from './state/admin-state-store';

/** Records what the service asks it to keep, and answers what the test says. */
class RecordingStore extends AdminStateStore {
  readonly persistence = 'redis';
  answer: Persisted = 'redis';
  saved: { kind: string; value: unknown }[] = [];
  listener: AdminStateListener | undefined;
  stopped = false;

  saveRoutes(routes: RouteState): Promise<Persisted> {
    this.saved.push({ kind: 'routes', value: routes });
    return Promise.resolve(this.answer);
  }
  saveIpLists(lists: IpListsState): Promise<Persisted> {
    this.saved.push({ kind: 'ip-lists', value: lists });
    return Promise.resolve(this.answer);
  }
  saveDrains(rules: readonly DrainRule[]): Promise<Persisted> {
    this.saved.push({ kind: 'drains', value: rules });
    return Promise.resolve(this.answer);
  }
  adoptReload(routes: RouteState, lists: IpListsState): Promise<Persisted> {
    this.saved.push({ kind: 'reload', value: { routes, lists } });
    return Promise.resolve(this.answer);
  }
  announceApiKeyChange(hash: string): Promise<void> {
    this.saved.push({ kind: 'api-key', value: hash });
    return Promise.resolve();
  }
  start(listener: AdminStateListener): void {
    this.listener = listener;
  }
  stop(): void {
    this.stopped = true;
  }
}

interface FakeUpstream {
  key: string;
  draining: boolean;
}

/** The table as the service sees it: compiled routes with upstream objects it can drain. */
function fakeTable(): RouteTableService & { replaced: number } {
  const listeners = new Set<() => void>();
  const table = {
    replaced: 0,
    routes: [] as { name: string; config: RouteConfig; group: { upstreams: FakeUpstream[] } }[],
    replace(routes: readonly RouteConfig[]): RouteTableChange {
      table.replaced++;
      const previous = new Map(table.routes.map((r) => [r.name, r.config]));
      // New upstream objects on every replace, as the real table builds them.
      table.routes = routes.map((config) => ({
        name: config.name,
        config,
        group: {
          upstreams: config.upstreams.map((u) => ({ key: new URL(u.url).href, draining: false })),
        },
      }));
      const names = new Set(routes.map((r) => r.name));
      const changed = routes.filter((r) => previous.has(r.name) && previous.get(r.name) !== r);
      const removed = [...previous.keys()].filter((name) => !names.has(name));
      listeners.forEach((listener) => listener());
      return {
        added: routes.filter((r) => !previous.has(r.name)).map((r) => r.name),
        changed: changed.map((r) => r.name),
        removed,
        before: [...changed.map((r) => r.name), ...removed].map((name) => previous.get(name)!),
      };
    },
    replaceAsync(routes: readonly RouteConfig[]): Promise<RouteTableChange> {
      return Promise.resolve(table.replace(routes));
    },
    route(name: string) {
      return table.routes.find((r) => r.name === name);
    },
    isolate(): Promise<void> {
      return Promise.resolve();
    },
    onReplace(listener: () => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return table as unknown as RouteTableService & { replaced: number };
}

/**
 * A cluster primary with one other worker, which applies every change: records what this worker
 * relayed, and feeds it changes from the other worker.
 */
class OtherWorker implements SyncChannel {
  relayed: { kind: string; payload: unknown; replay?: unknown }[] = [];
  private listener: ((message: unknown) => void) | undefined;

  send(message: unknown): void {
    const m = message as {
      type: string;
      id: number;
      kind: string;
      payload: unknown;
      replay?: unknown;
    };
    if (m.type === SYNC.broadcast) {
      this.relayed.push({
        kind: m.kind,
        payload: m.payload,
        ...(m.replay ? { replay: m.replay } : {}),
      });
      queueMicrotask(() => this.listener?.({ type: SYNC.done, id: m.id, workers: 1, applied: 1 }));
    }
  }
  on(_event: 'message', listener: (message: unknown) => void): void {
    this.listener = listener;
  }
  off(): void {
    this.listener = undefined;
  }
  /** A change made in the other worker, as the primary hands it over. */
  deliver(kind: string, payload: unknown): void {
    this.listener?.({ type: SYNC.apply, id: 1, kind, payload });
  }
}

function route(name: string, prefix: string, ...urls: string[]): RouteConfig {
  return {
    name,
    host: '',
    prefix,
    upstreams: urls.map((url) => ({ url, weight: 1 })),
    stripPrefix: false,
    requireAuth: false,
    timeoutMs: 30_000,
    preserveHost: false,
  };
}

function draining(table: RouteTableService): Record<string, boolean[]> {
  return Object.fromEntries(
    table.routes.map((r) => [r.name, r.group.upstreams.map((u) => u.draining)]),
  );
}

describe('AdminStateService', () => {
  let table: ReturnType<typeof fakeTable>;
  let store: RecordingStore;
  let ipFilter: IpFilterService;
  let forgotten: string[];
  let other: OtherWorker;
  let reset: string[];
  let purged: unknown[];
  let service: AdminStateService;
  let logged: jest.SpyInstance;

  beforeEach(() => {
    logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const config = {
      proxy: { connectionTimeoutMs: 30_000 },
      routes: [route('env-route', '/env', 'http://10.0.0.9:80')],
    } as unknown as GatewayConfig;
    table = fakeTable();
    table.replace(config.routes);
    store = new RecordingStore();
    ipFilter = new IpFilterService({
      allow: [],
      deny: ['203.0.113.0/24'],
      threshold: 1000,
      blockDurationMs: 60_000,
    });
    forgotten = [];
    const apiKeys = { forget: (hash: string) => forgotten.push(hash) } as unknown as ApiKeyStore;
    other = new OtherWorker();
    const sync = new WorkerSync(other);
    reset = [];
    const pools = {
      breakerFor: (url: string) => ({
        state: 'open',
        reset: () => reset.push(url),
      }),
    } as unknown as UpstreamPoolsService;
    purged = [];
    const cache = {
      purge: (url: string) => Promise.resolve(purged.push({ url })),
      purgePrefix: (prefix: string) => Promise.resolve(purged.push({ prefix })),
    } as unknown as HttpCacheService;
    const reloads = new ConfigReloadService(config, table, ipFilter, sync);
    service = new AdminStateService(
      config,
      table,
      ipFilter,
      store,
      apiKeys,
      reloads,
      sync,
      pools,
      cache,
    );
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  describe('routes', () => {
    it('should add, replace and remove one route, relay each table to the other workers, and hand the store each change', async () => {
      store.answer = 'failed';

      const added = await service.addRoute({
        name: 'a',
        prefix: '/a',
        target_url: 'http://10.0.0.1',
      });
      const replaced = await service.replaceRoute('a', {
        prefix: '/a',
        target_url: 'http://10.0.0.2',
        timeout_secs: 5,
      });
      const removed = await service.removeRoute('env-route');

      expect(added).toMatchObject({ route: { name: 'a', prefix: '/a' }, routes: 2 });
      expect(replaced).toMatchObject({
        route: { name: 'a', target_url: 'http://10.0.0.2', timeout_secs: 5 },
        before: { name: 'a', target_url: 'http://10.0.0.1' },
        routes: 2,
        persisted: 'failed',
      });
      expect(removed).toMatchObject({ route: null, routes: 1, before: { name: 'env-route' } });
      expect(table.routes.map((r) => r.name)).toEqual(['a']);
      // The other workers apply the same table before each change returns.
      expect(other.relayed.map((r) => [r.kind, (r.payload as RouteConfig[]).length])).toEqual([
        ['routes', 2],
        ['routes', 2],
        ['routes', 1],
      ]);
      const changes = store.saved.map((s) => (s.value as RouteState).change);
      expect(changes).toEqual([
        {
          op: 'put',
          name: 'a',
          entry: expect.objectContaining({ target_url: 'http://10.0.0.1' }) as unknown,
        },
        { op: 'put', name: 'a', entry: expect.objectContaining({ timeout_secs: 5 }) as unknown },
        { op: 'remove', name: 'env-route' },
      ]);
      // The whole table, for a store that keeps it as one value, in config-file form.
      const last = store.saved.at(-1)!.value as RouteState;
      expect(JSON.parse(await last.json(last.routes))).toEqual(service.routeEntries());
    });

    it('should refuse a taken name, an unknown route, and a route clashing with the table', async () => {
      await expect(
        service.addRoute({ name: 'env-route', prefix: '/x', target_url: 'http://10.0.0.1' }),
      ).rejects.toMatchObject({ status: 409 });
      await expect(
        service.replaceRoute('nope', { prefix: '/x', target_url: 'http://10.0.0.1' }),
      ).rejects.toMatchObject({ status: 404 });
      await expect(service.removeRoute('nope')).rejects.toMatchObject({ status: 404 });
      await expect(
        service.addRoute({ name: 'twin', prefix: '/env', target_url: 'http://10.0.0.1' }),
      ).rejects.toMatchObject({ status: 400 });
      // Checked against the running route whose prefix differs only by a trailing slash too.
      await expect(
        service.addRoute({ name: 'slash', prefix: '/env/', target_url: 'http://10.0.0.1' }),
      ).rejects.toMatchObject({
        status: 400,
        message: expect.stringContaining('differ only by a trailing slash') as unknown,
      });

      expect(table.replaced).toBe(1);
      expect(store.saved).toEqual([]);
    });

    it('should refuse an invalid table with one detail per problem, changing nothing', () => {
      const attempt = () =>
        service.buildRoutes(
          [
            { name: 'a', prefix: 'nope', target_url: 'http://10.0.0.1:80' },
            { name: 'b', prefix: '/b' },
          ],
          'routes',
        );

      expect(attempt).toThrow(AdminError);
      try {
        attempt();
      } catch (error) {
        expect((error as AdminError).status).toBe(400);
        expect((error as AdminError).details.map((d) => d.field)).toEqual([
          'routes[0].prefix',
          'routes[1]',
        ]);
      }
      expect(table.replaced).toBe(1);
      expect(store.saved).toEqual([]);
    });
  });

  describe('drains', () => {
    it('should drain a URL on every route, or on one route only, and keep the rules', async () => {
      await service.removeRoute('env-route');
      await service.addRoute({
        name: 'a',
        prefix: '/a',
        target_url: 'http://10.0.0.1:80',
        targets: ['10.0.0.2:80'],
      });
      await service.addRoute({ name: 'b', prefix: '/b', target_url: 'http://10.0.0.1:80' });

      await service.setDrains([{ url: 'http://10.0.0.1/' }]);
      expect(draining(table)).toEqual({ a: [true, false], b: [true] });

      const persisted = await service.setDrains([{ url: 'http://10.0.0.1/', route: 'b' }]);
      expect(draining(table)).toEqual({ a: [false, false], b: [true] });
      expect(persisted).toBe('redis');
      expect(store.saved.at(-1)).toEqual({
        kind: 'drains',
        value: [{ url: 'http://10.0.0.1/', route: 'b' }],
      });
      expect(service.drains).toEqual([{ url: 'http://10.0.0.1/', route: 'b' }]);
    });

    it('should drain the new upstream objects when the table is replaced', async () => {
      await service.addRoute({ name: 'a', prefix: '/a', target_url: 'http://10.0.0.1:80' });
      await service.setDrains([{ url: 'http://10.0.0.1/' }]);

      await service.replaceRoute('a', { prefix: '/a', target_url: 'http://10.0.0.1:80' });

      expect(draining(table)).toEqual({ 'env-route': [false], a: [true] });
    });
  });

  it('should hand the store the current IP lists', async () => {
    ipFilter.allowlist.add('10.1.0.0/16', undefined);

    expect(await service.saveIpLists()).toBe('redis');
    expect(store.saved).toEqual([
      {
        kind: 'ip-lists',
        value: { allow: [{ entry: '10.1.0.0/16' }], deny: [{ entry: '203.0.113.0/24' }] },
      },
    ]);
  });

  describe('reloadConfig', () => {
    it('should refuse an invalid configuration with its problems and change nothing', async () => {
      const reload = service.reloadConfig(() => ({
        ok: false,
        problems: ['gw.yaml: routes[0].prefix: invalid prefix "x"'],
      }));

      await expect(reload).rejects.toMatchObject({
        status: 400,
        details: [{ field: 'gw.yaml', message: 'routes[0].prefix: invalid prefix "x"' }],
      });
      expect(table.replaced).toBe(1);
      expect(store.saved).toEqual([]);
    });

    it('should apply the routes and lists of a valid configuration and tell the store', async () => {
      const fresh = {
        routes: [route('a', '/a', 'http://10.0.0.1:80')],
        security: { ipWhitelist: ['10.0.0.0/8'], ipBlacklist: [] },
      } as unknown as GatewayConfig;
      store.answer = 'config-file';

      const result = await service.reloadConfig(() => ({ ok: true, config: fresh, warnings: [] }));

      expect(result).toEqual({
        routes: 1,
        allow: 1,
        deny: 0,
        persisted: 'config-file',
        change: {
          added: ['a'],
          changed: [],
          removed: ['env-route'],
          before: [expect.objectContaining({ name: 'env-route' })],
        },
      });
      expect(table.routes.map((r) => r.name)).toEqual(['a']);
      expect(service.ipLists()).toEqual({ allow: [{ entry: '10.0.0.0/8' }], deny: [] });
      expect(store.saved).toEqual([
        {
          kind: 'reload',
          value: {
            routes: expect.objectContaining({
              routes: [expect.objectContaining({ name: 'a' })],
            }) as unknown,
            lists: { allow: [{ entry: '10.0.0.0/8' }], deny: [] },
          },
        },
      ]);
    });
  });

  describe('with other workers and no Redis', () => {
    it('should relay drains, IP lists, blocks, breaker resets and purges, with their replay keys', async () => {
      await service.setDrains([{ url: 'http://10.0.0.9/' }]);
      await service.saveIpLists();
      await service.block('198.51.100.7', 60_000);
      await service.unblock('198.51.100.7');
      expect(await service.resetBreaker('http://10.0.0.9/')).toEqual({
        before: 'open',
        after: 'open',
      });
      expect(await service.purgeCache({ prefix: '/api' })).toBe(1);

      expect(other.relayed).toEqual([
        { kind: 'drains', payload: [{ url: 'http://10.0.0.9/' }], replay: { key: 'drains' } },
        {
          kind: 'ip-lists',
          payload: { allow: [], deny: [{ entry: '203.0.113.0/24' }] },
          replay: { key: 'ip-lists' },
        },
        {
          kind: 'block.add',
          payload: { ip: '198.51.100.7', until: expect.any(Number) as unknown },
          replay: { key: 'block:198.51.100.7' },
        },
        {
          kind: 'block.remove',
          payload: { ip: '198.51.100.7' },
          replay: { key: 'block:198.51.100.7', drop: true },
        },
        { kind: 'breaker.reset', payload: { url: 'http://10.0.0.9/' } },
        { kind: 'cache.purge', payload: { prefix: '/api' } },
      ]);
      expect(reset).toEqual(['http://10.0.0.9/']);
    });

    it("should apply another worker's changes here", async () => {
      other.deliver('routes', [route('relayed', '/r', 'http://10.0.0.3:80')]);
      await new Promise((r) => setImmediate(r));
      other.deliver('drains', [{ url: 'http://10.0.0.3/' }]);
      other.deliver('ip-lists', { allow: [{ entry: '192.0.2.0/24' }], deny: [] });
      other.deliver('block.add', { ip: '198.51.100.8', until: Date.now() + 30_000 });
      other.deliver('breaker.reset', { url: 'http://10.0.0.3/' });
      other.deliver('cache.purge', { url: '/a?b=1' });
      await new Promise((r) => setImmediate(r));

      expect(table.routes.map((r) => r.name)).toEqual(['relayed']);
      expect(draining(table)).toEqual({ relayed: [true] });
      expect(service.ipLists()).toEqual({ allow: [{ entry: '192.0.2.0/24' }], deny: [] });
      expect(ipFilter.check('198.51.100.8').blocked).toBe(true);
      expect(reset).toEqual(['http://10.0.0.3/']);
      expect(purged).toEqual([{ url: '/a?b=1' }]);
      // Nothing applied from elsewhere is relayed again.
      expect(other.relayed).toEqual([]);
    });
  });

  describe("another replica's changes", () => {
    let listener: AdminStateListener;

    beforeEach(() => {
      service.onApplicationBootstrap();
      listener = store.listener!;
    });

    it('should install valid routes and ignore an invalid table as a whole', async () => {
      await listener.routes(
        JSON.stringify([{ name: 'x', prefix: '/x', target_url: 'http://10.0.0.5:80' }]),
        'redis',
      );
      expect(table.routes.map((r) => r.name)).toEqual(['x']);

      await listener.routes(
        JSON.stringify([
          { name: 'y', prefix: '/y', target_url: 'http://10.0.0.6:80' },
          { name: 'z', prefix: 'bad' },
        ]),
        'redis',
      );
      await listener.routes(JSON.stringify({ not: 'an array' }), 'redis');
      await listener.routes('{not json', 'redis');

      expect(table.routes.map((r) => r.name)).toEqual(['x']);
      expect(logged).toHaveBeenCalledTimes(3);
    });

    it('should replace the IP lists, and apply only well-formed drain rules', async () => {
      await service.removeRoute('env-route');
      await service.addRoute({ name: 'a', prefix: '/a', target_url: 'http://10.0.0.1:80' });
      listener.ipLists({ allow: [{ entry: '192.0.2.1' }] });
      listener.drains([{ url: 'http://10.0.0.1/' }, { nope: 1 }, null]);
      // Drains wait for the changes queued before them.
      await new Promise((resolve) => setImmediate(resolve));

      expect(service.ipLists()).toEqual({ allow: [{ entry: '192.0.2.1' }], deny: [] });
      expect(service.drains).toEqual([{ url: 'http://10.0.0.1/' }]);
      expect(draining(table)).toEqual({ a: [true] });
    });

    it('should make the API key store forget a key changed elsewhere', () => {
      listener.apiKeyChanged('ab'.repeat(32));

      expect(forgotten).toEqual(['ab'.repeat(32)]);
    });

    it('should stop following the store on shutdown', () => {
      service.onModuleDestroy();

      expect(store.stopped).toBe(true);
    });
  });
});
