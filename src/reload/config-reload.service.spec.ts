import { Logger } from '@nestjs/common';
import { WorkerSync } from '../cluster/worker-sync';
import type { RouteConfig } from '../config/gateway-config.types';
import { loadGatewayConfig, type LoadGatewayConfigResult } from '../config/load-config';
import type { RouteTableService } from '../routing/route-table.service';
import { IpFilterService } from '../security/ip-filter/ip-filter.service';
import { ConfigReloadService, ReloadRefused } from './config-reload.service';

function loaded(env: Record<string, string>): LoadGatewayConfigResult {
  return loadGatewayConfig({ env, cwd: __dirname, isTTY: false });
}

describe('ConfigReloadService', () => {
  let installed: RouteConfig[][];
  let ipFilter: IpFilterService;
  let service: ConfigReloadService;
  let errors: jest.SpyInstance;

  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const boot = loaded({ ROUTE_A_URL: 'h:1' });
    if (!boot.ok) {
      throw new Error('boot config');
    }
    installed = [];
    const table = {
      replaceAsync: (routes: RouteConfig[]) => {
        installed.push(routes);
        return Promise.resolve({
          added: routes.map((r) => r.name),
          changed: [],
          removed: [],
          before: [],
        });
      },
    } as unknown as RouteTableService;
    ipFilter = new IpFilterService({ allow: [], deny: [], threshold: 1000, blockDurationMs: 1000 });
    service = new ConfigReloadService(boot.config, table, ipFilter, new WorkerSync(undefined));
  });
  afterEach(() => jest.restoreAllMocks());

  it('should apply the routes and IP lists of a valid configuration and say what needs a restart', async () => {
    service.setParticipant(() => Promise.resolve('config-file'));

    const outcome = await service.reload('SIGHUP', () =>
      loaded({
        ROUTE_A_URL: 'h:1',
        ROUTE_B_URL: 'h:2',
        ROUTE_B_PREFIX: '/b',
        IP_BLACKLIST: '203.0.113.0/24',
        LOG_LEVEL: 'warn',
      }),
    );

    expect(outcome).toEqual({
      routes: 2,
      allow: 0,
      deny: 1,
      persisted: 'config-file',
      restartNeeded: ['log.level'],
      change: { added: ['a', 'b'], changed: [], removed: [], before: [] },
    });
    expect(installed.map((routes) => routes.map((r) => r.name))).toEqual([['a', 'b']]);
  });

  it('should refuse an invalid configuration, log every problem, and change nothing', async () => {
    const reload = service.reload('file change', () =>
      loaded({ ROUTE_A_URL: 'h:1', ROUTE_B_PREFIX: 'nope' }),
    );

    await expect(reload).rejects.toBeInstanceOf(ReloadRefused);
    expect(installed).toEqual([]);
    expect(errors).toHaveBeenCalledWith(
      expect.stringMatching(
        /^config reload \(file change\) refused, the running configuration keeps serving: .*ROUTE_B/,
      ),
    );
  });

  it('should keep the built-in demo route while the reloaded configuration has no route', async () => {
    const demo = loaded({ ROUTE_DEMO_URL: 'h:9', ROUTE_DEMO_PREFIX: '/demo' });
    service.useWhenNoRoutes(demo.ok ? demo.config.routes : []);

    await service.reload('SIGHUP', () => loaded({}));
    await service.reload('SIGHUP', () => loaded({ DEMO_UPSTREAM: 'false' }));
    await service.reload('SIGHUP', () => loaded({ ROUTE_A_URL: 'h:1' }));

    expect(installed.map((routes) => routes.map((r) => r.name))).toEqual([['demo'], [], ['a']]);
  });

  it('should run reloads one at a time, in order', async () => {
    const order: string[] = [];
    let release: () => void = () => undefined;
    service.setParticipant(async (routes) => {
      order.push(`start ${routes.length}`);
      if (routes.length === 1) {
        await new Promise<void>((r) => (release = r));
      }
      order.push(`end ${routes.length}`);
      return undefined;
    });

    const first = service.reload('a', () => loaded({ ROUTE_A_URL: 'h:1' }));
    const second = service.reload('b', () =>
      loaded({ ROUTE_A_URL: 'h:1', ROUTE_B_URL: 'h:2', ROUTE_B_PREFIX: '/b' }),
    );
    await new Promise((r) => setImmediate(r));
    release();
    await Promise.all([first, second]);

    expect(order).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
  });
});
