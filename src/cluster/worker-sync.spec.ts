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
  const cluster = new EventEmitter();
  const workers: { worker: Worker; sync: WorkerSync; applied: unknown[] }[] = [];
  const primary = serveWorkerSync(cluster, pino({ level: 'silent' }), { timeoutMs });
  const add = (options: { silent?: boolean } = {}) => {
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
    const channel: SyncChannel = {
      send: (message) => queueMicrotask(() => cluster.emit('message', worker, message)),
      on: (_e, l) => toWorker.on('message', l),
      off: (_e, l) => toWorker.off('message', l),
    };
    const sync = new WorkerSync(channel, 1_000);
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

  it('should do nothing without a channel (one process, or Redis)', async () => {
    const alone = new WorkerSync(undefined);
    await alone.onApplicationBootstrap();

    expect(alone.enabled).toBe(false);
    expect(await alone.broadcast('routes', [])).toEqual({ workers: 0, applied: 0 });
    expect(SYNC.broadcast).toBe('gateway:sync:broadcast');
  });
});
