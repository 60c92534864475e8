import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { send, waitFor, type Reply } from './fixtures/http';
import { type GatewayProcess, logLines, spawnGateway, waitForWorkers } from './fixtures/process';
import { startUpstream, type TestUpstream } from './fixtures/upstream';

const TOKEN = 'reload-admin-token-0123456789abcdef';

/** The operator's address: blocks and the deny list cover the admin API, and tests block 127.0.0.1. */
const OPERATOR = '127.0.0.2';

function admin(gw: GatewayProcess, method: string, path: string, body?: unknown): Promise<Reply> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  return send(gw.url, path, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(text === undefined
        ? {}
        : {
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(text)),
          }),
    },
    ...(text === undefined ? {} : { body: text }),
    localAddress: OPERATOR,
  });
}

/** Statuses of `count` requests, each on a fresh connection (the primary spreads those). */
async function statuses(
  gw: GatewayProcess,
  path: string,
  count: number,
  headers: Record<string, string> = {},
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    out.push((await send(gw.url, `${path}/${i}`, { headers })).status);
  }
  return out;
}

/** Worker pids whose access lines show `path…` answered with `status`. */
function servedBy(gw: GatewayProcess, path: string, status = 200): Set<number> {
  return new Set(
    logLines(gw)
      .filter(
        (l) => l.msg === 'request completed' && l.path?.startsWith(path) && l.status === status,
      )
      .map((l) => l.pid ?? -1),
  );
}

describe('reloads (e2e, built gateway)', () => {
  let up: TestUpstream;
  let dir: string;

  beforeAll(async () => {
    up = await startUpstream();
  });
  afterAll(async () => {
    await up.close();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gw-reload-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const routes = (...prefixes: string[]) =>
    stringify({ routes: prefixes.map((prefix) => ({ prefix, target_url: up.url })) });

  it('should reload the file and .env on SIGHUP, refuse a bad file and keep serving', async () => {
    const file = join(dir, 'gw.yaml');
    writeFileSync(file, routes('/one'));
    const gw = await spawnGateway(
      { GATEWAY_CONFIG: 'gw.yaml', DEMO_UPSTREAM: 'false' },
      { cwd: dir },
    );
    try {
      expect((await send(gw.url, '/one/x')).status).toBe(200);
      expect((await send(gw.url, '/two/x')).status).toBe(404);

      writeFileSync(file, routes('/one', '/two'));
      // .env is read again too: a route from ROUTE_<NAME>_* there.
      writeFileSync(join(dir, '.env'), `ROUTE_THREE_URL=${up.url}\nROUTE_THREE_PREFIX=/three\n`);
      gw.child.kill('SIGHUP');
      await waitFor(() => gw.stdout().includes('config reloaded (SIGHUP)'), 5_000);
      expect((await send(gw.url, '/two/x')).status).toBe(200);
      expect((await send(gw.url, '/three/x')).status).toBe(200);

      writeFileSync(file, 'routes: [{ prefix: nope, target_url: 1 }]\n');
      gw.child.kill('SIGHUP');
      await waitFor(() => gw.stdout().includes('config reload (SIGHUP) refused'), 5_000);
      const refused = logLines(gw).find((l) => l.msg?.startsWith('config reload (SIGHUP) refused'));
      expect(refused?.level).toBe('error');
      expect(refused?.msg).toContain('routes[0].prefix');
      // Still alive, still serving the previous table.
      expect(gw.child.exitCode).toBeNull();
      expect((await send(gw.url, '/two/x')).status).toBe(200);
      expect((await send(gw.url, '/health/ready')).status).toBe(200);
    } finally {
      expect(await gw.stop()).toBe(0);
    }
  });

  it('should keep the built-in demo route on SIGHUP while no route is configured', async () => {
    const gw = await spawnGateway({}, { cwd: dir });
    try {
      expect((await send(gw.url, '/demo/x')).status).toBe(200);
      gw.child.kill('SIGHUP');
      await waitFor(() => gw.stdout().includes('config reloaded (SIGHUP)'), 5_000);
      expect((await send(gw.url, '/demo/x')).status).toBe(200);
    } finally {
      expect(await gw.stop()).toBe(0);
    }
  });

  it('should reload on a file change with GATEWAY_CONFIG_WATCH, ConfigMap symlink swaps included', async () => {
    // The layout of a Kubernetes ConfigMap volume: gw.yaml -> ..data/gw.yaml, ..data -> ..v1
    mkdirSync(join(dir, '..v1'));
    writeFileSync(join(dir, '..v1', 'gw.yaml'), routes('/one'));
    symlinkSync('..v1', join(dir, '..data'));
    symlinkSync(join('..data', 'gw.yaml'), join(dir, 'gw.yaml'));
    const gw = await spawnGateway(
      { GATEWAY_CONFIG: 'gw.yaml', GATEWAY_CONFIG_WATCH: 'true', DEMO_UPSTREAM: 'false' },
      { cwd: dir },
    );
    try {
      expect((await send(gw.url, '/two/x')).status).toBe(404);

      // What the kubelet does on an update: a new directory, then one atomic symlink swap.
      mkdirSync(join(dir, '..v2'));
      writeFileSync(join(dir, '..v2', 'gw.yaml'), routes('/one', '/two'));
      symlinkSync('..v2', join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      rmSync(join(dir, '..v1'), { recursive: true });

      await waitFor(() => gw.stdout().includes('config reloaded (file change)'), 8_000);
      expect((await send(gw.url, '/two/x')).status).toBe(200);

      // An invalid update is refused; the next good one applies.
      mkdirSync(join(dir, '..v3'));
      writeFileSync(join(dir, '..v3', 'gw.yaml'), 'routes: [{ prefix: /x }]\n');
      symlinkSync('..v3', join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      await waitFor(() => gw.stdout().includes('config reload (file change) refused'), 8_000);
      expect((await send(gw.url, '/two/x')).status).toBe(200);
    } finally {
      expect(await gw.stop()).toBe(0);
    }
  });
});

describe('GATEWAY_WORKERS without Redis: admin changes reach every worker (e2e, built gateway)', () => {
  let up: TestUpstream;
  let gw: GatewayProcess;
  let dir: string;

  beforeAll(async () => {
    up = await startUpstream();
    dir = mkdtempSync(join(tmpdir(), 'gw-workers-'));
    writeFileSync(
      join(dir, 'gw.yaml'),
      stringify({ routes: [{ name: 'base', prefix: '/base', target_url: up.url }] }),
    );
    gw = await spawnGateway(
      {
        GATEWAY_WORKERS: '2',
        GATEWAY_CONFIG: 'gw.yaml',
        ADMIN_TOKEN: TOKEN,
        DEMO_UPSTREAM: 'false',
      },
      { cwd: dir },
    );
    await waitForWorkers(gw);
  });
  afterAll(async () => {
    await gw.stop();
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('should serve an admin-created route from both workers as soon as the call returns', async () => {
    const created = await admin(gw, 'POST', '/admin/routes', {
      name: 'added',
      prefix: '/added',
      target_url: up.url,
    });
    expect(created.status).toBe(201);
    expect(created.json()).toMatchObject({ persisted: 'config-file' });

    // No polling: the answer came after every worker applied the new table.
    expect(await statuses(gw, '/added', 12)).toEqual(Array<number>(12).fill(200));
    await waitFor(() => servedBy(gw, '/added').size === 2, 5_000);
  });

  it('should make an admin-created API key and a block work on both workers', async () => {
    const created = await admin(gw, 'POST', '/admin/api-keys', { name: 'pool-key', admin: true });
    const { key, persisted } = created.json<{ key: string; persisted: string }>();
    expect(persisted).toBe('memory');
    const byKey: number[] = [];
    for (let i = 0; i < 8; i++) {
      byKey.push((await send(gw.url, '/admin/routes', { headers: { 'x-api-key': key } })).status);
    }
    expect(byKey).toEqual(Array<number>(8).fill(200));

    expect(
      (await admin(gw, 'POST', '/admin/blocks', { ip: '127.0.0.1', duration: '1m' })).status,
    ).toBe(200);
    expect(await statuses(gw, '/base', 6)).toEqual(Array<number>(6).fill(429));
    expect((await admin(gw, 'DELETE', '/admin/blocks/127.0.0.1')).status).toBe(200);
    expect(await statuses(gw, '/base', 6)).toEqual(Array<number>(6).fill(200));
  });

  it('should give a replacement worker the changes made before it started', async () => {
    const before = await admin(gw, 'POST', '/admin/routes', {
      name: 'before-crash',
      prefix: '/before-crash',
      target_url: up.url,
    });
    expect(before.status).toBe(201);
    const victim = [...servedBy(gw, '/added')][0];
    process.kill(victim, 'SIGKILL');
    await waitFor(
      () => logLines(gw).filter((l) => l.msg === 'primary: worker listening').length >= 3,
      20_000,
      50,
    );
    const replacement = logLines(gw)
      .filter((l) => l.msg === 'primary: worker listening')
      .at(-1)?.worker;

    expect(await statuses(gw, '/before-crash', 12)).toEqual(Array<number>(12).fill(200));
    await waitFor(() => servedBy(gw, '/before-crash').has(replacement ?? -1), 5_000);
  });

  it('should reload every worker on SIGHUP to the primary, and refuse a bad file there', async () => {
    writeFileSync(
      join(dir, 'gw.yaml'),
      stringify({
        routes: [
          { name: 'base', prefix: '/base', target_url: up.url },
          { name: 'hup', prefix: '/hup', target_url: up.url },
        ],
      }),
    );
    gw.child.kill('SIGHUP');
    await waitFor(() => gw.stdout().includes('config reloaded (SIGHUP)'), 8_000);
    expect(await statuses(gw, '/hup', 12)).toEqual(Array<number>(12).fill(200));
    // Access lines are written in batches: wait for both workers' lines.
    await waitFor(() => servedBy(gw, '/hup').size === 2, 5_000);

    writeFileSync(join(dir, 'gw.yaml'), 'routes: [{ prefix: bad }]\n');
    gw.child.kill('SIGHUP');
    await waitFor(() => gw.stdout().includes('config reload refused'), 8_000);
    expect(await statuses(gw, '/hup', 4)).toEqual(Array<number>(4).fill(200));
    expect(gw.child.exitCode).toBeNull();
  });
});

describe('GATEWAY_WORKERS with Redis: SIGHUP reloads every worker (e2e, built gateway)', () => {
  it('should serve a route added to the file from both workers after SIGHUP to the primary', async () => {
    const redisUrl = process.env.TEST_REDIS_URL;
    if (!redisUrl) {
      throw new Error('TEST_REDIS_URL is not set: the e2e globalSetup starts redis-server');
    }
    const up = await startUpstream();
    const dir = mkdtempSync(join(tmpdir(), 'gw-workers-redis-'));
    const file = join(dir, 'gw.yaml');
    const write = (...prefixes: string[]) =>
      writeFileSync(
        file,
        stringify({ routes: prefixes.map((prefix) => ({ prefix, target_url: up.url })) }),
      );
    write('/base');
    const gw = await spawnGateway(
      {
        GATEWAY_WORKERS: '2',
        GATEWAY_CONFIG: 'gw.yaml',
        REDIS_URL: redisUrl,
        DEMO_UPSTREAM: 'false',
      },
      { cwd: dir },
    );
    try {
      await waitForWorkers(gw);
      write('/base', '/hup');
      gw.child.kill('SIGHUP');
      await waitFor(() => gw.stdout().split('config reloaded (SIGHUP)').length - 1 === 2, 8_000);

      expect(await statuses(gw, '/hup', 12)).toEqual(Array<number>(12).fill(200));
      // Access lines are written in batches: wait for both workers' lines.
      await waitFor(() => servedBy(gw, '/hup').size === 2, 5_000);
    } finally {
      await gw.stop();
      await up.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('GATEWAY_WORKERS with GATEWAY_CONFIG_WATCH, without Redis (e2e, built gateway)', () => {
  it('should reload every worker when the file changes, keeping what the admin API wrote there', async () => {
    const up = await startUpstream();
    const dir = mkdtempSync(join(tmpdir(), 'gw-workers-watch-'));
    const file = join(dir, 'gw.yaml');
    writeFileSync(
      file,
      stringify({ routes: [{ name: 'base', prefix: '/base', target_url: up.url }] }),
    );
    const gw = await spawnGateway(
      {
        GATEWAY_WORKERS: '2',
        GATEWAY_CONFIG: 'gw.yaml',
        GATEWAY_CONFIG_WATCH: 'true',
        ADMIN_TOKEN: TOKEN,
        DEMO_UPSTREAM: 'false',
      },
      { cwd: dir },
    );
    try {
      await waitForWorkers(gw);
      const created = await admin(gw, 'POST', '/admin/routes', {
        name: 'added',
        prefix: '/added',
        target_url: up.url,
      });
      expect(created.json()).toMatchObject({ persisted: 'config-file' });

      // An operator edits the file the admin API wrote: one worker reloads, the other follows.
      const written = parse(readFileSync(file, 'utf8')) as { routes: object[] };
      writeFileSync(
        file,
        stringify({
          routes: [...written.routes, { name: 'watched', prefix: '/watched', target_url: up.url }],
        }),
      );
      await waitFor(() => gw.stdout().includes('config reloaded (file change)'), 8_000);

      expect(await statuses(gw, '/watched', 12)).toEqual(Array<number>(12).fill(200));
      expect(await statuses(gw, '/added', 4)).toEqual(Array<number>(4).fill(200));
      // Access lines are written in batches: wait for both workers' lines.
      await waitFor(() => servedBy(gw, '/watched').size === 2, 5_000);
    } finally {
      await gw.stop();
      await up.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
