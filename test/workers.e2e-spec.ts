import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { send, sleep, waitFor } from './fixtures/http';
import { type GatewayProcess, logLines, spawnGateway } from './fixtures/process';
import { startUpstream, type TestUpstream } from './fixtures/upstream';

/** Worker pids that logged an access line for a path starting with `prefix`. */
function servingPids(gw: GatewayProcess, prefix: string): Set<number> {
  return new Set(
    logLines(gw)
      .filter((l) => l.msg === 'request completed' && l.path?.startsWith(prefix))
      .map((l) => l.pid ?? -1),
  );
}

function listeningWorkers(gw: GatewayProcess): number[] {
  return logLines(gw)
    .filter((l) => l.msg === 'primary: worker listening')
    .map((l) => l.worker ?? -1);
}

/** Fresh connections (no agent) so the primary's round-robin hands each to the next worker. */
async function spread(gw: GatewayProcess, prefix: string, count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    statuses.push((await send(gw.url, `${prefix}/${i}`)).status);
  }
  return statuses;
}

describe('GATEWAY_WORKERS (e2e, built gateway)', () => {
  let upstream: TestUpstream;

  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      const delay = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('delay') ?? '0');
      setTimeout(() => res.end(`done after ${delay}`), delay);
    });
  });

  afterAll(async () => {
    await upstream.close();
  });

  const start = async (extra: Record<string, string> = {}): Promise<GatewayProcess> => {
    const gw = await spawnGateway({
      GATEWAY_WORKERS: '2',
      LOG_LEVEL: 'info',
      SERVICE_ROUTES: JSON.stringify([{ name: 'app', prefix: '/', target_url: upstream.url }]),
      ...extra,
    });
    // /health answered by the first worker up; wait for the second too.
    await waitFor(() => listeningWorkers(gw).length >= 2, 20_000, 50);
    return gw;
  };

  it('should spread connections over both workers, each with its own pid', async () => {
    const gw = await start();
    try {
      expect(await spread(gw, '/spread', 20)).toEqual(Array<number>(20).fill(200));
      await waitFor(() => servingPids(gw, '/spread').size >= 2, 5_000);
      const pids = servingPids(gw, '/spread');
      expect(pids.size).toBe(2);
      expect(pids.has(gw.child.pid ?? -1)).toBe(false); // the primary serves nothing itself
      expect(new Set(listeningWorkers(gw))).toEqual(pids);
      // No Redis: the operator is told that limits are per worker, once (by the primary).
      expect(gw.stdout().split('without Redis: workers share nothing').length - 1).toBe(1);
    } finally {
      expect(await gw.stop()).toBe(0);
    }
  });

  it('should share one rate-limit budget between the workers through Redis', async () => {
    const burst = 40;
    const gw = await start({
      REDIS_URL: process.env.TEST_REDIS_URL ?? '',
      MAX_REQUESTS_PER_SECOND: '1',
      MAX_BURST_SIZE: String(burst),
      DDOS_THRESHOLD: '100000',
      TRUSTED_PROXIES: '127.0.0.1',
    });
    try {
      // A client of its own (a fresh bucket in the shared Redis), over fresh connections that
      // the primary hands to both workers in turn.
      const client = { headers: { 'x-forwarded-for': `198.51.100.${process.pid % 250}` } };
      await sleep(300); // both workers connect to Redis right after boot
      const started = Date.now();
      const statuses: number[] = [];
      for (let i = 0; i < burst * 2; i++) {
        statuses.push((await send(gw.url, `/shared/${i}`, client)).status);
      }
      const refill = (Date.now() - started) / 1000; // 1 token per second
      const allowed = statuses.filter((s) => s === 200).length;
      expect(servingPids(gw, '/shared').size).toBe(2);
      // One budget (per-worker buckets would allow 2 × burst).
      expect(allowed).toBeGreaterThanOrEqual(burst);
      expect(allowed).toBeLessThanOrEqual(Math.ceil((burst + refill) * 1.05));
      expect(gw.stdout()).not.toContain('without Redis');
    } finally {
      expect(await gw.stop()).toBe(0);
    }
  });

  it('should keep answering on the port when a worker is killed, and start a replacement', async () => {
    const gw = await start();
    try {
      const [victim, survivor] = listeningWorkers(gw);
      process.kill(victim ?? -1, 'SIGKILL');
      // A connection the primary hands over at the very instant of the kill is lost with the
      // worker (as with any crashed process); once the primary has seen the death, every new
      // connection goes to a live worker while the replacement boots.
      await waitFor(() => gw.stdout().includes('primary: worker died; starting a replacement'));
      const statuses = await spread(gw, '/during', 20);
      expect(statuses).toEqual(Array<number>(20).fill(200));
      await waitFor(() => listeningWorkers(gw).length >= 3, 20_000, 50);
      const replacement = listeningWorkers(gw)[2];
      expect([victim, survivor]).not.toContain(replacement);
      // The replacement takes traffic too.
      for (
        let round = 0;
        round < 10 && !servingPids(gw, '/after').has(replacement ?? -1);
        round++
      ) {
        await spread(gw, `/after${round}`, 4);
      }
      expect(servingPids(gw, '/after').has(replacement ?? -1)).toBe(true);
      expect(servingPids(gw, '/after').has(victim ?? -1)).toBe(false);
    } finally {
      expect(await gw.stop()).toBe(0);
    }
  });

  it('should drain every worker on SIGTERM: in-flight requests complete, the primary exits 0', async () => {
    const gw = await start({ SHUTDOWN_TIMEOUT: '20s' });
    // One slow request on each worker (round-robin hands consecutive connections to each).
    const slow = [send(gw.url, '/slow/a?delay=1500'), send(gw.url, '/slow/b?delay=1500')];
    await waitFor(() => upstream.requests.filter((r) => r.url.startsWith('/slow/')).length >= 2);
    const stopping = gw.stop('SIGTERM');
    await sleep(200);
    // The listener is closed while the slow requests are still running.
    await expect(send(gw.url, '/late')).rejects.toThrow();
    const replies = await Promise.all(slow);
    expect(replies.map((r) => [r.status, r.text])).toEqual([
      [200, 'done after 1500'],
      [200, 'done after 1500'],
    ]);
    expect(await stopping).toBe(0);
    expect(gw.stdout()).toContain('primary: all workers exited');
    // Not restarted during the drain.
    expect(listeningWorkers(gw)).toHaveLength(2);
  });

  it('should serve the built-in demo upstream from every worker when no route is configured', async () => {
    const gw = await spawnGateway({ GATEWAY_WORKERS: '2', LOG_LEVEL: 'info' });
    try {
      await waitFor(() => listeningWorkers(gw).length >= 2, 20_000, 50);
      for (let i = 0; i < 10; i++) {
        const reply = await send(gw.url, `/demo/anything/${i}`);
        expect(reply.status).toBe(200);
        expect(reply.json()).toMatchObject({ service: 'demo-upstream', path: `/anything/${i}` });
      }
      await waitFor(() => servingPids(gw, '/demo/').size >= 2, 5_000);
    } finally {
      expect(await gw.stop()).toBe(0);
    }
  });

  it('should load neither Nest nor the upstream client in the primary', async () => {
    // Preloaded in every process (NODE_OPTIONS reaches the workers too): reports, at exit, which
    // libraries the process had loaded. The thread that reads the configuration at boot runs it
    // too; only each process's main thread counts.
    const dir = mkdtempSync(join(tmpdir(), 'gateway-workers-'));
    const hook = join(dir, 'loaded-modules.js');
    writeFileSync(
      hook,
      `const cluster = require('node:cluster');
const { isMainThread } = require('node:worker_threads');
process.on('exit', () => {
  if (!isMainThread) return;
  const loaded = Object.keys(require.cache);
  const count = (lib) => loaded.filter((m) => m.includes('/node_modules/' + lib + '/')).length;
  process.stderr.write('LOADED ' + JSON.stringify({ primary: cluster.isPrimary,
    nest: count('@nestjs/core'), undici: count('undici'), ioredis: count('ioredis') }) + '\\n');
});
`,
    );
    try {
      const gw = await start({ NODE_OPTIONS: `--require ${hook}` });
      expect(await gw.stop()).toBe(0);
      const reports = gw
        .stderr()
        .split('\n')
        .filter((l) => l.startsWith('LOADED '))
        .map((l) => JSON.parse(l.slice(7)) as Record<string, number | boolean>);
      expect(reports.filter((r) => r.primary)).toEqual([
        { primary: true, nest: 0, undici: 0, ioredis: 0 },
      ]);
      const workers = reports.filter((r) => !r.primary);
      expect(workers).toHaveLength(2);
      for (const worker of workers) {
        expect(worker.nest).toBeGreaterThan(0);
        expect(worker.undici).toBeGreaterThan(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('should refuse an invalid configuration in the primary, before forking', async () => {
    const gw = await spawnGateway(
      { GATEWAY_WORKERS: '2', MAX_REQUESTS_PER_SECOND: 'lots' },
      { waitReady: false },
    );
    expect(await gw.exited).toBe(1);
    expect(gw.stderr()).toContain('invalid configuration');
    expect(gw.stdout()).not.toContain('primary: workers started');
  });

  it('should give up with exit 1 when every worker fails at boot', async () => {
    // The port is taken by another process: each worker fails to listen.
    const blocker = await spawnGateway({ DEMO_UPSTREAM: 'false' });
    try {
      const gw = await spawnGateway(
        { GATEWAY_WORKERS: '2', GATEWAY_PORT: `127.0.0.1:${blocker.port}`, LOG_LEVEL: 'info' },
        { waitReady: false },
      );
      expect(await gw.exited).toBe(1);
      expect(gw.stdout()).toContain('workers keep dying before they listen; giving up');
    } finally {
      await blocker.stop();
    }
  });
});
