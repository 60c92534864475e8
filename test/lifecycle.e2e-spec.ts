import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { send, sleep, waitFor } from './fixtures/http';
import { spawnGateway } from './fixtures/process';
import { startUpstream, type TestUpstream } from './fixtures/upstream';

const routeTo = (url: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify([{ name: 'app', prefix: '/', target_url: url, ...extra }]);

describe('lifecycle of the built gateway (e2e)', () => {
  let slow: TestUpstream;

  beforeAll(async () => {
    slow = await startUpstream((req, res) => {
      const delay = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('delay') ?? '0');
      setTimeout(() => res.end(`done after ${delay}`), delay);
    });
  });
  afterAll(() => slow.close());

  it('should start the demo upstream when no route is configured', async () => {
    const gw = await spawnGateway({ LOG_LEVEL: 'info' });
    try {
      const r = await send(gw.url, '/demo/anything?x=1');
      expect(r.status).toBe(200);
      expect(r.json()).toMatchObject({
        service: 'demo-upstream',
        path: '/anything',
        query: { x: '1' },
      });
      expect(gw.stdout()).toContain('demo upstream');
    } finally {
      expect(await gw.stop()).toBe(0);
    }
  });

  it('should not start the demo upstream when DEMO_UPSTREAM=false', async () => {
    const gw = await spawnGateway({ DEMO_UPSTREAM: 'false' });
    try {
      expect((await send(gw.url, '/demo/anything')).status).toBe(404);
    } finally {
      await gw.stop();
    }
  });

  it('should write JSON log lines when stdout is not a TTY', async () => {
    const gw = await spawnGateway({ SERVICE_ROUTES: routeTo(slow.url), LOG_LEVEL: 'info' });
    await send(gw.url, '/json-log-check');
    await gw.stop();
    const lines = gw.stdout().trim().split('\n');
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) {
      expect(() => JSON.parse(line) as unknown).not.toThrow();
    }
    const access = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.path === '/json-log-check');
    expect(access).toMatchObject({
      msg: 'request completed',
      status: 200,
      route: 'app',
      method: 'GET',
    });
  });

  it('should write access lines to ACCESS_LOG_FILE and flush them on shutdown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-access-'));
    const file = join(dir, 'logs', 'access.log');
    const gw = await spawnGateway({
      SERVICE_ROUTES: routeTo(slow.url),
      LOG_LEVEL: 'info',
      ACCESS_LOG_FILE: file,
    });
    for (let i = 0; i < 3; i++) {
      await send(gw.url, `/to-file-${i}`);
    }
    expect(await gw.stop()).toBe(0);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { path: string }).path)).toEqual(
      expect.arrayContaining(['/to-file-0', '/to-file-1', '/to-file-2']),
    );
    expect(gw.stdout()).not.toContain('/to-file-0');
    rmSync(dir, { recursive: true, force: true });
  });

  it('should let an in-flight request finish on SIGTERM, refuse new connections and exit 0', async () => {
    const gw = await spawnGateway({ SERVICE_ROUTES: routeTo(slow.url), SHUTDOWN_TIMEOUT: '10s' });
    const inflight = send(gw.url, '/slow?delay=1500');
    await sleep(300);
    gw.child.kill('SIGTERM');
    await sleep(200);
    await expect(send(gw.url, '/new')).rejects.toThrow();
    const r = await inflight;
    expect(r.status).toBe(200);
    expect(r.text).toBe('done after 1500');
    expect(await gw.exited).toBe(0);
  });

  it('should cut requests still running when SHUTDOWN_TIMEOUT expires, then exit 0', async () => {
    const gw = await spawnGateway({ SERVICE_ROUTES: routeTo(slow.url), SHUTDOWN_TIMEOUT: '500ms' });
    const started = Date.now();
    const inflight = send(gw.url, '/slow?delay=5000').then(
      () => 'completed',
      () => 'cut',
    );
    await sleep(200);
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toBe(0);
    expect(await inflight).toBe('cut');
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('should close idle keep-alive connections promptly on SIGTERM', async () => {
    const gw = await spawnGateway({ SERVICE_ROUTES: routeTo(slow.url), SHUTDOWN_TIMEOUT: '20s' });
    // Leave one keep-alive connection idle.
    await new Promise<void>((resolve) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: gw.port, path: '/', headers: { connection: 'keep-alive' } },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.end();
    });
    const started = Date.now();
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('SHUTDOWN_DELAY (e2e)', () => {
  let up: TestUpstream;

  beforeAll(async () => {
    up = await startUpstream((req, res) => {
      const delay = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('delay') ?? '0');
      setTimeout(() => res.end(`ok ${req.url}`), delay);
    });
  });
  afterAll(() => up.close());

  /** A keep-alive GET on `agent`, resolving with the status (0 when the connection failed). */
  const status = (url: string, path: string, agent?: Agent): Promise<number> =>
    new Promise((resolve) => {
      const req = httpRequest(`${url}${path}`, { agent: agent ?? false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', () => resolve(0));
      req.end();
    });

  it('should answer readiness 503 at once on SIGTERM and keep serving everything for the delay, then drain and exit 0', async () => {
    const gw = await spawnGateway({
      SERVICE_ROUTES: routeTo(up.url),
      SHUTDOWN_DELAY: '2s',
      SHUTDOWN_TIMEOUT: '5s',
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect(await status(gw.url, '/health/ready')).toBe(200);
      expect(await status(gw.url, '/warm', agent)).toBe(200);
      const inflight = status(gw.url, '/slow?delay=2500');
      await sleep(100);
      const signalledAt = Date.now();
      gw.child.kill('SIGTERM');
      await sleep(100);
      // Readiness fails at once; liveness does not (the process is fine).
      expect(await status(gw.url, '/health/ready')).toBe(503);
      expect(await status(gw.url, '/health/live')).toBe(200);
      // New connections and the existing keep-alive one are both still served.
      const during: number[] = [];
      while (Date.now() - signalledAt < 1600) {
        during.push(await status(gw.url, `/new-${during.length}`));
        during.push(await status(gw.url, `/kept-${during.length}`, agent));
        await sleep(100);
      }
      expect(during.length).toBeGreaterThan(10);
      expect(new Set(during)).toEqual(new Set([200]));
      // After the delay the listener closes; the in-flight request still finishes.
      expect(await gw.exited).toBe(0);
      expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(2000);
      expect(await inflight).toBe(200);
      expect(await status(gw.url, '/after')).toBe(0);
      expect(gw.stdout()).toContain('still serving for SHUTDOWN_DELAY');
    } finally {
      agent.destroy();
      await gw.stop('SIGKILL');
    }
  });

  it('should skip the delay on SIGINT (Ctrl-C)', async () => {
    const gw = await spawnGateway({ SERVICE_ROUTES: routeTo(up.url), SHUTDOWN_DELAY: '20s' });
    const started = Date.now();
    gw.child.kill('SIGINT');
    expect(await gw.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('should end the delay early on a second signal', async () => {
    const gw = await spawnGateway({ SERVICE_ROUTES: routeTo(up.url), SHUTDOWN_DELAY: '20s' });
    gw.child.kill('SIGTERM');
    await sleep(300);
    expect(await status(gw.url, '/still-here')).toBe(200);
    const second = Date.now();
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toBe(0);
    expect(Date.now() - second).toBeLessThan(3000);
  });

  it('should delay each worker the same way with GATEWAY_WORKERS=2', async () => {
    const gw = await spawnGateway({
      SERVICE_ROUTES: routeTo(up.url),
      SHUTDOWN_DELAY: '1500ms',
      GATEWAY_WORKERS: '2',
    });
    await waitFor(
      () => (gw.stdout().match(/primary: worker listening/g) ?? []).length >= 2,
      20_000,
    );
    const signalledAt = Date.now();
    gw.child.kill('SIGTERM');
    await sleep(300);
    expect(await status(gw.url, '/health/ready')).toBe(503);
    expect(await status(gw.url, '/served')).toBe(200);
    const code = await gw.exited;
    expect([code, gw.stderr()]).toEqual([0, '']);
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(1500);
  });
});

describe('invalid configuration (e2e)', () => {
  it.each([
    [{ CONNECTION_TIMEOUT: '10' }, /CONNECTION_TIMEOUT/],
    [{ SERVICE_ROUTES: '[{"name":"a","prefix":"/a"}]' }, /SERVICE_ROUTES\[0\]/],
    [{ SERVICE_ROUTES: '{not json' }, /SERVICE_ROUTES/],
    [
      {
        SERVICE_ROUTES:
          '[{"name":"a","prefix":"/x","target_url":"http://127.0.0.1:1"},{"name":"b","prefix":"/x","target_url":"http://127.0.0.1:2"}]',
      },
      /\/x/,
    ],
    [{ LOAD_BALANCING_ALGO: 'fastest' }, /LOAD_BALANCING_ALGO/],
    [{ ROUTE_BILLING_PREFIX: '/billing' }, /ROUTE_BILLING/],
    [{ SERVICE_ROUTES: '[{"name":"a","target_url":"ftp://x"}]' }, /target_url/],
  ])('should refuse to start with %p', async (env, pattern) => {
    const gw = await spawnGateway(env, { waitReady: false });
    const code = await gw.exited;
    expect(code).toBe(1);
    expect(gw.stderr()).toMatch(pattern);
    expect(gw.stdout()).not.toContain('gateway listening');
  });

  it('should report every problem, one line each', async () => {
    const gw = await spawnGateway(
      { CONNECTION_TIMEOUT: 'soon', LOAD_BALANCING_ALGO: 'fastest', HEALTH_CHECK_INTERVAL: '0s' },
      { waitReady: false },
    );
    expect(await gw.exited).toBe(1);
    const lines = gw
      .stderr()
      .split('\n')
      .filter((l) => /^\s+\S/.test(l));
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(gw.stderr()).toMatch(/CONNECTION_TIMEOUT/);
    expect(gw.stderr()).toMatch(/LOAD_BALANCING_ALGO/);
    expect(gw.stderr()).toMatch(/HEALTH_CHECK_INTERVAL/);
  });
});
