import { Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import {
  isMessage,
  SYNC,
  type ApplyMessage,
  type DoneMessage,
  type ReloadMessage,
  type ReplayKey,
  type ReplayMessage,
} from './sync-messages';

/** What a worker uses of its IPC channel to the primary (`process`; a fake in tests). */
export interface SyncChannel {
  send(message: unknown): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/** Applies one kind of change made in another worker; throws (or rejects) when it cannot. */
export type SyncHandler = (payload: unknown) => void | Promise<void>;

export interface BroadcastResult {
  /** Other workers the change was sent to. */
  workers: number;
  /** Of those, the ones that applied it in time. */
  applied: number;
}

const ALONE: BroadcastResult = Object.freeze({ workers: 0, applied: 0 });

/**
 * With `GATEWAY_WORKERS` and no Redis the workers share nothing, so an admin change (a route, an
 * IP list entry, an API key, a block, a drain) or a reload made in the worker that answered
 * would leave the others on the old state, and requests would alternate between the two. Each
 * change made here is therefore also sent, through the primary, to every other worker; the
 * caller waits for {@link broadcast} so an admin answer returns once every worker applied it.
 * The primary keeps the last change of each kind and replays them to a worker started later
 * (a replaced worker), before it listens.
 *
 * In a single process there is no channel and every call is a no-op. With Redis, which shares
 * the state itself, changes are not relayed (`relay: false`), but a reload the primary asks
 * for still arrives here.
 */
export class WorkerSync implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('WorkerSync');
  private readonly handlers = new Map<string, SyncHandler>();
  private readonly waiting = new Map<number, (result: BroadcastResult) => void>();
  private reloadRequested: ((trigger: string) => Promise<unknown>) | undefined;
  private joined: ((entries: ReplayMessage['entries']) => void) | undefined;
  private seq = 0;

  private readonly relay: boolean;

  constructor(
    private readonly channel: SyncChannel | undefined,
    options: {
      /** Relay changes to the other workers (false with Redis). @default true */
      relay?: boolean;
      /** Longest wait for the primary's answer; the primary bounds each worker's by less. */
      timeoutMs?: number;
    } = {},
  ) {
    this.relay = channel !== undefined && options.relay !== false;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    channel?.on('message', this.onMessage);
  }

  private readonly timeoutMs: number;

  /** Whether changes are relayed to other workers. */
  get enabled(): boolean {
    return this.relay;
  }

  /** Registers how changes of `kind` made elsewhere are applied here. */
  handle(kind: string, handler: SyncHandler): void {
    this.handlers.set(kind, handler);
  }

  /** Registers what a reload asked by the primary (SIGHUP, a file change) runs. */
  onReloadRequest(run: (trigger: string) => Promise<unknown>): void {
    this.reloadRequested = run;
  }

  /**
   * Has every other worker apply a change this worker has already applied. Resolves once they
   * all answered (or the primary stopped waiting for a silent one); never rejects.
   */
  broadcast(kind: string, payload: unknown, replay?: ReplayKey): Promise<BroadcastResult> {
    const channel = this.channel;
    if (channel === undefined || !this.relay) {
      return Promise.resolve(ALONE);
    }
    const id = ++this.seq;
    return new Promise<BroadcastResult>((resolve) => {
      const timer = setTimeout(() => finish({ workers: -1, applied: 0 }), this.timeoutMs);
      const finish = (result: BroadcastResult): void => {
        clearTimeout(timer);
        this.waiting.delete(id);
        if (result.applied < result.workers || result.workers < 0) {
          this.logger.warn(
            `change "${kind}" applied here but not confirmed by every other worker (${Math.max(0, result.applied)} of ${result.workers < 0 ? '?' : result.workers})`,
          );
        }
        resolve(result);
      };
      this.waiting.set(id, finish);
      try {
        channel.send({ type: SYNC.broadcast, id, kind, payload, ...(replay ? { replay } : {}) });
      } catch (err) {
        this.logger.warn(`cannot reach the cluster primary: ${String(err)}`);
        finish({ workers: -1, applied: 0 });
      }
    });
  }

  /** Tells the primary the admin API rewrote the config file, so its watcher does not reload it. */
  noteConfigWritten(file: string, hash: string): void {
    if (!this.relay) {
      return;
    }
    try {
      this.channel?.send({ type: SYNC.wrote, file, hash });
    } catch {
      // The primary is gone: nothing watches the file then.
    }
  }

  /** Applies the changes made before this worker started, before it listens. */
  async onApplicationBootstrap(): Promise<void> {
    const channel = this.channel;
    if (channel === undefined || !this.relay) {
      return;
    }
    const entries = await new Promise<ReplayMessage['entries']>((resolve) => {
      const timer = setTimeout(() => {
        this.logger.warn('no replay from the cluster primary; starting with the configured state');
        resolve([]);
      }, this.timeoutMs);
      this.joined = (list) => {
        clearTimeout(timer);
        resolve(list);
      };
      channel.send({ type: SYNC.hello });
    });
    this.joined = undefined;
    for (const entry of entries) {
      await this.apply(entry.kind, entry.payload).catch((err: unknown) =>
        this.logger.error(`cannot replay change "${entry.kind}": ${String(err)}`),
      );
    }
  }

  onModuleDestroy(): void {
    this.channel?.off('message', this.onMessage);
    for (const finish of [...this.waiting.values()]) {
      finish({ workers: -1, applied: 0 });
    }
  }

  private readonly onMessage = (message: unknown): void => {
    if (isMessage<ApplyMessage>(message, SYNC.apply)) {
      this.apply(message.kind, message.payload).then(
        () => this.answer(message.id, true),
        (err: unknown) => {
          this.logger.error(
            `cannot apply change "${message.kind}" from another worker: ${String(err)}`,
          );
          this.answer(message.id, false, String(err));
        },
      );
    } else if (isMessage<DoneMessage>(message, SYNC.done)) {
      this.waiting.get(message.id)?.({ workers: message.workers, applied: message.applied });
    } else if (isMessage<ReplayMessage>(message, SYNC.replay)) {
      this.joined?.(Array.isArray(message.entries) ? message.entries : []);
    } else if (isMessage<ReloadMessage>(message, SYNC.reload)) {
      void this.reloadRequested?.(String(message.trigger));
    }
  };

  private async apply(kind: string, payload: unknown): Promise<void> {
    const handler = this.handlers.get(kind);
    if (handler === undefined) {
      throw new Error(`no handler for "${kind}"`);
    }
    await handler(payload);
  }

  private answer(id: number, ok: boolean, error?: string): void {
    try {
      this.channel?.send({ type: SYNC.applied, id, ok, ...(error === undefined ? {} : { error }) });
    } catch {
      // The primary is gone; it is not waiting any more.
    }
  }
}
