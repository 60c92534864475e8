import { EventEmitter } from 'node:events';
import type { Worker } from 'node:cluster';
import pino from 'pino';
import { SYNC } from './sync-messages';
import { serveWorkerSync } from './sync-primary';
import { WorkerSync, type SyncChannel } from './worker-sync';

/**
 * A primary and N workers wired through in-memory channels, with the real primary side
 * (`serveWorkerSync`) and the real worker side (`WorkerSync`).
 */
function pool(size: number, timeoutMs = 200) {
  const registered: NodeJS.Dict<Worker> = {};
  const cluster = Object.assign(new EventEmitter(), { workers: registered });
  const workers: { worker: Worker; sync: WorkerSync; applied: unknown[] }[] = [];
  const primary = serveWorkerSync(cluster, pino({ level: 'silent' }), { timeoutMs });
  const add = (options: { silent?: boolean; relay?: boolean } = {}) => {
    const toWorker = new EventEmitter();
    let connected = true;
    const worker = {
      process: { pid: workers.length + 1 },
      isConnected: () => connected,
      send: (message: unknown) => {
        queueMicrotask(() => toWorker.emit('message', message));
        return true;
      },
    } as unknown as Worker;
    cluster.workers[String(workers.length + 1)] = worker;
    const channel: SyncChannel = {
      send: (message) => queueMicrotask(() => cluster.emit('message', worker, message)),
      on: (_e, l) => toWorker.on('message', l),
      off: (_e, l) => toWorker.off('message', l),
    };
    const sync = new WorkerSync(channel, { timeoutMs: 1_000, relay: options.relay !== false });
    const applied: unknown[] = [];
    sync.handle('routes', (payload) => {
      if (options.silent) {
        return new Promise(() => undefined);
      }
      applied.push(payload);
    });
    const entry = {
      worker,
      sync,
      applied,
      exit: () => {
        connected = false;
        cluster.emit('exit', worker);
      },
    };
    workers.push(entry);
    return entry;
  };
  return { primary, add, workers, count: size };
}

describe('WorkerSync and its primary', () => {
  it('should apply a change in every other joined worker before the origin returns', async () => {
    const { add, primary } = pool(3);
    const [a, b, c] = [add(), add(), add()];
    await Promise.all([a, b, c].map((w) => w.sync.onApplicationBootstrap()));
    expect(primary.syncedWorkers).toBe(3);

    const result = await a.sync.broadcast('routes', ['r1'], { key: 'routes' });

    expect(result).toEqual({ workers: 2, applied: 2 });
    expect([a.applied, b.applied, c.applied]).toEqual([[], [['r1']], [['r1']]]);
  });

  it('should replay the last change per key to a worker that joins later, dropping undone ones', async () => {
    const { add } = pool(2);
    const a = add();
    await a.sync.onApplicationBootstrap();
    const keys: unknown[] = [];
    await a.sync.broadcast('routes', ['old'], { key: 'routes' });
    await a.sync.broadcast('routes', ['new'], { key: 'routes' });
    await a.sync.broadcast('routes', ['gone'], { key: 'k' });
    await a.sync.broadcast('routes', ['gone'], { key: 'k', drop: true });

    const late = add();
    late.sync.handle('routes', (payload) => void keys.push(payload));
    await late.sync.onApplicationBootstrap();

    expect(keys).toEqual([['new']]);
  });

  it('should answer the origin without a worker that does not apply in time, or exits', async () => {
    const { add } = pool(3, 100);
    const a = add();
    const silent = add({ silent: true });
    const leaving = add({ silent: true });
    await Promise.all([a, silent, leaving].map((w) => w.sync.onApplicationBootstrap()));

    const pending = a.sync.broadcast('routes', ['x']);
    setTimeout(() => leaving.exit(), 10);
    const started = Date.now();

    expect(await pending).toEqual({ workers: 2, applied: 0 });
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('should ask one worker to reload, or every one', async () => {
    const { add, primary } = pool(2);
    const reloads: string[] = [];
    const [a, b] = [add(), add()];
    for (const [name, w] of [
      ['a', a],
      ['b', b],
    ] as const) {
      w.sync.onReloadRequest((trigger) => Promise.resolve(reloads.push(`${name}:${trigger}`)));
    }
    await Promise.all([a, b].map((w) => w.sync.onApplicationBootstrap()));

    expect(primary.requestReload('SIGHUP', false)).toBe(1);
    expect(primary.requestReload('file change', true)).toBe(2);
    await new Promise((r) => setImmediate(r));

    expect(reloads).toEqual(['a:SIGHUP', 'a:file change', 'b:file change']);
  });

  it('should take reloads but relay nothing with Redis, which shares the state itself', async () => {
    const { add, primary } = pool(2);
    const reloads: string[] = [];
    const [a, b] = [add({ relay: false }), add({ relay: false })];
    for (const w of [a, b]) {
      w.sync.onReloadRequest((trigger) => Promise.resolve(reloads.push(trigger)));
      await w.sync.onApplicationBootstrap();
    }

    expect(a.sync.enabled).toBe(false);
    expect(await a.sync.broadcast('routes', ['x'])).toEqual({ workers: 0, applied: 0 });
    expect(b.applied).toEqual([]);
    expect(primary.requestReload('SIGHUP', true)).toBe(2);
    await new Promise((r) => setImmediate(r));
    expect(reloads).toEqual(['SIGHUP', 'SIGHUP']);
  });

  it('should do nothing without a channel (one process)', async () => {
    const alone = new WorkerSync(undefined);
    await alone.onApplicationBootstrap();

    expect(alone.enabled).toBe(false);
    expect(await alone.broadcast('routes', [])).toEqual({ workers: 0, applied: 0 });
    expect(SYNC.broadcast).toBe('gateway:sync:broadcast');
  });
});
