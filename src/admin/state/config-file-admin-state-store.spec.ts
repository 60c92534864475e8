import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { parse } from 'yaml';
import type { RouteConfig } from '../../config/gateway-config.types';
import { ConfigFileWriter } from '../config-file-writer';
import type { RouteState } from './admin-state-store';
import { ConfigFileAdminStateStore } from './config-file-admin-state-store';
import { MemoryAdminStateStore } from './memory-admin-state-store';

function route(name: string, prefix: string, url: string): RouteConfig {
  return {
    name,
    host: '',
    prefix,
    upstreams: [{ url, weight: 1 }],
    stripPrefix: false,
    requireAuth: false,
    timeoutMs: 30_000,
    preserveHost: false,
  };
}

/** The table in config-file form, as the service hands it over. */
function state(routes: RouteConfig[], change?: RouteState['change']): RouteState {
  const json = (kept: readonly RouteConfig[]) =>
    Promise.resolve(
      JSON.stringify(
        kept.map((r) => ({ name: r.name, prefix: r.prefix, target_url: r.upstreams[0].url })),
      ),
    );
  return { routes, json, ...(change ? { change } : {}) };
}

const EMPTY: RouteState = state([]);

describe('ConfigFileAdminStateStore', () => {
  let dir: string;
  let file: string;
  let store: ConfigFileAdminStateStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gw-admin-store-'));
    file = join(dir, 'gw.yaml');
    writeFileSync(file, '# kept\nlog:\n  level: info\n');
    store = new ConfigFileAdminStateStore(new ConfigFileWriter(file), ['env-route']);
  });
  afterEach(() => {
    jest.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('should write only the routes the file defines', async () => {
    const envRoute = route('env-route', '/env', 'http://10.0.0.9');
    const a = route('a', '/a', 'http://10.0.0.1');
    let written = 0;
    store = new ConfigFileAdminStateStore(new ConfigFileWriter(file), ['env-route'], () => {
      written++;
    });
    const persisted = await store.saveRoutes(state([envRoute, a]));

    expect(persisted).toBe('config-file');
    expect(written).toBe(1);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# kept');
    expect(parse(text)).toEqual({
      log: { level: 'info' },
      routes: [{ name: 'a', prefix: '/a', target_url: 'http://10.0.0.1' }],
    });
  });

  it('should write a single change as that one entry once the file holds the routes by name', async () => {
    writeFileSync(
      file,
      '# kept\nroutes:\n  - name: a # first\n    prefix: /a\n    target_url: http://10.0.0.1\n',
    );
    store = new ConfigFileAdminStateStore(new ConfigFileWriter(file), ['a', 'env-route']);
    store.start({} as never);
    const a = route('a', '/a', 'http://10.0.0.1');
    const b = route('b', '/b', 'http://10.0.0.2');

    await store.saveRoutes(
      state([a, route('env-route', '/env', 'http://10.0.0.9'), b], {
        op: 'put',
        name: 'b',
        entry: { name: 'b', prefix: '/b', target_url: 'http://10.0.0.2' },
      }),
    );
    // An environment route's change never reaches the file.
    await store.saveRoutes(state([a, b], { op: 'remove', name: 'env-route' }));

    const text = readFileSync(file, 'utf8');
    // Patched in place: the other entry keeps its comment.
    expect(text).toContain('# first');
    expect(parse(text)).toEqual({
      routes: [
        { name: 'a', prefix: '/a', target_url: 'http://10.0.0.1' },
        { name: 'b', prefix: '/b', target_url: 'http://10.0.0.2' },
      ],
    });

    // After a reload the file may hold unnamed entries: the next change rewrites the list.
    writeFileSync(file, 'routes:\n  - prefix: /a\n    target_url: http://10.0.0.1\n');
    expect(await store.adoptReload(EMPTY, { allow: [], deny: [] })).toBe('config-file');
    await store.saveRoutes(state([a], { op: 'put', name: 'a', entry: {} }));
    expect(parse(readFileSync(file, 'utf8'))).toEqual({
      routes: [{ name: 'a', prefix: '/a', target_url: 'http://10.0.0.1' }],
    });
  });

  it('should write the permanent IP list entries, never the expiring ones', async () => {
    await store.saveIpLists({
      allow: [{ entry: '10.0.0.0/8' }, { entry: '10.1.1.1', expiresAt: Date.now() + 60_000 }],
      deny: [{ entry: '203.0.113.7' }],
    });

    expect(parse(readFileSync(file, 'utf8'))).toMatchObject({
      security: { ip_whitelist: ['10.0.0.0/8'], ip_blacklist: ['203.0.113.7'] },
    });
  });

  it('should keep drains in memory, and call the file the kept state after a reload', async () => {
    expect(await store.saveDrains([{ url: 'http://10.0.0.1/' }])).toBe('memory');
    expect(await store.adoptReload(EMPTY, { allow: [], deny: [] })).toBe('config-file');
    expect(parse(readFileSync(file, 'utf8'))).toEqual({ log: { level: 'info' } });
  });

  it('should answer failed, and log why, when the file cannot be written', async () => {
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    rmSync(file);

    expect(await store.saveIpLists({ allow: [], deny: [] })).toBe('failed');
    expect(error).toHaveBeenCalledWith(expect.stringContaining('not persisted (config-file'));
  });
});

describe('MemoryAdminStateStore', () => {
  it('should keep everything in memory', async () => {
    const store = new MemoryAdminStateStore();

    expect(
      await Promise.all([
        store.saveRoutes(EMPTY),
        store.saveIpLists({ allow: [], deny: [] }),
        store.saveDrains([]),
        store.adoptReload(EMPTY, { allow: [], deny: [] }),
      ]),
    ).toEqual(['memory', 'memory', 'memory', 'memory']);
    expect(store.persistence).toBe('memory');
  });
});
