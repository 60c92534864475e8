import type { Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { isMessage, SYNC, type AppliedMessage, type BroadcastMessage } from './sync-messages';

/** The part of node:cluster the primary side uses (a fake in tests). */
export interface SyncCluster {
  on(event: 'message', listener: (worker: Worker, message: unknown) => void): unknown;
  on(event: 'exit', listener: (worker: Worker) => void): unknown;
  /** Every worker, joined or not (with Redis, workers take reloads but never join). */
  readonly workers?: NodeJS.Dict<Worker>;
}

export interface SyncPrimary {
  /** Asks one joined worker to reload (it then relays the result), or every worker. */
  requestReload(trigger: string, every: boolean): number;
  /** Workers that have received the replay log and take changes. */
  readonly syncedWorkers: number;
}

interface Pending {
  origin: Worker;
  originId: number;
  /** Workers the change was sent to. */
  sent: number;
  /** Those that have not answered yet. */
  expected: Set<Worker>;
  applied: number;
  timer: NodeJS.Timeout;
}

/**
 * Primary side of {@link WorkerSync}: relays each worker's change to every other worker that has
 * joined, answers the origin once all have applied it (or after `timeoutMs` without the silent
 * ones), and keeps a replay log (the last change per key) for workers that join later.
 */
export function serveWorkerSync(
  cluster: SyncCluster,
  logger: Logger,
  options: { timeoutMs?: number; onConfigWritten?: (file: string, hash: string) => void } = {},
): SyncPrimary {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const synced = new Set<Worker>();
  const log = new Map<string, { kind: string; payload: unknown }>();
  const pending = new Map<number, Pending>();
  let seq = 0;

  const finish = (id: number): void => {
    const p = pending.get(id);
    if (p === undefined) {
      return;
    }
    pending.delete(id);
    clearTimeout(p.timer);
    send(p.origin, {
      type: SYNC.done,
      id: p.originId,
      workers: p.sent,
      applied: p.applied,
    });
  };

  const send = (worker: Worker, message: object): void => {
    if (worker.isConnected()) {
      try {
        worker.send(message);
      } catch (err) {
        logger.warn(
          { worker: worker.process.pid, err: String(err) },
          'primary: cannot reach a worker',
        );
      }
    }
  };

  const relay = (origin: Worker, message: BroadcastMessage): void => {
    if (message.replay !== undefined) {
      const key = String(message.replay.key);
      log.delete(key);
      if (message.replay.drop !== true) {
        log.set(key, { kind: message.kind, payload: message.payload });
      }
    }
    const id = ++seq;
    const targets = [...synced].filter((w) => w !== origin && w.isConnected());
    const entry: Pending = {
      origin,
      originId: message.id,
      sent: targets.length,
      expected: new Set(targets),
      applied: 0,
      timer: setTimeout(() => {
        logger.warn(
          { kind: message.kind, silent: [...entry.expected].map((w) => w.process.pid) },
          'primary: workers did not confirm an admin change in time',
        );
        finish(id);
      }, timeoutMs),
    };
    entry.timer.unref();
    pending.set(id, entry);
    for (const worker of targets) {
      send(worker, { type: SYNC.apply, id, kind: message.kind, payload: message.payload });
    }
    if (targets.length === 0) {
      finish(id);
    }
  };

  cluster.on('message', (worker, message) => {
    if (isMessage<BroadcastMessage>(message, SYNC.broadcast)) {
      relay(worker, message);
    } else if (isMessage<AppliedMessage>(message, SYNC.applied)) {
      const p = pending.get(message.id);
      if (p !== undefined && p.expected.delete(worker)) {
        if (message.ok) {
          p.applied++;
        } else {
          logger.error(
            { worker: worker.process.pid, error: message.error },
            'primary: a worker could not apply an admin change',
          );
        }
        if (p.expected.size === 0) {
          finish(message.id);
        }
      }
    } else if (isMessage<{ type: string }>(message, SYNC.hello)) {
      send(worker, { type: SYNC.replay, entries: [...log.values()] });
      synced.add(worker);
    } else if (isMessage<{ type: string; file?: unknown; hash?: unknown }>(message, SYNC.wrote)) {
      options.onConfigWritten?.(String(message.file), String(message.hash));
    }
  });

  cluster.on('exit', (worker) => {
    synced.delete(worker);
    for (const [id, p] of pending) {
      if (p.expected.delete(worker) && p.expected.size === 0) {
        finish(id);
      }
    }
  });

  return {
    requestReload(trigger: string, every: boolean): number {
      const all = Object.values(cluster.workers ?? {}).filter(
        (w): w is Worker => w !== undefined && w.isConnected(),
      );
      // One joined worker relays what it reloaded to the others; without relaying, each reloads.
      const chosen = every ? all : [...synced].filter((w) => w.isConnected()).slice(0, 1);
      for (const worker of chosen) {
        send(worker, { type: SYNC.reload, trigger });
      }
      return chosen.length;
    },
    get syncedWorkers() {
      return synced.size;
    },
  };
}
