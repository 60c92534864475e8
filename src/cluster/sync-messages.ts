/**
 * The cluster IPC protocol that keeps `GATEWAY_WORKERS` without Redis acting as one gateway:
 * every admin change and reload made in one worker is applied by all (see worker-sync.ts and
 * sync-primary.ts). Plain JSON objects, so the primary loads nothing but Node.
 */

/** Where a change lives in the primary's replay log, for workers started later. */
export interface ReplayKey {
  /** `routes`, `api-key:<id>`, `block:<ip>`… A later change with the same key replaces it. */
  key: string;
  /** The change undoes the entry (a revoked key, a lifted block): drop it from the log. */
  drop?: boolean;
}

export const SYNC = {
  /** worker → primary: apply `kind`/`payload` everywhere else, then answer `done`. */
  broadcast: 'gateway:sync:broadcast',
  /** primary → worker: apply this change (answer `applied`). */
  apply: 'gateway:sync:apply',
  /** worker → primary: the change was applied (or failed, with why). */
  applied: 'gateway:sync:applied',
  /** primary → origin worker: every other worker answered (or the wait ended). */
  done: 'gateway:sync:done',
  /** worker → primary, at boot: send me the changes made so far. */
  hello: 'gateway:sync:hello',
  /** primary → worker: the replay log, in order. */
  replay: 'gateway:sync:replay',
  /** primary → worker: reload the configuration (SIGHUP or a file change seen by the primary). */
  reload: 'gateway:sync:reload',
  /** worker → primary: the admin API rewrote the config file: this content is known. */
  wrote: 'gateway:sync:wrote',
} as const;

export interface BroadcastMessage {
  type: typeof SYNC.broadcast;
  id: number;
  kind: string;
  payload: unknown;
  replay?: ReplayKey;
}

export interface ApplyMessage {
  type: typeof SYNC.apply;
  id: number;
  kind: string;
  payload: unknown;
}

export interface AppliedMessage {
  type: typeof SYNC.applied;
  id: number;
  ok: boolean;
  error?: string;
}

export interface DoneMessage {
  type: typeof SYNC.done;
  id: number;
  /** Other workers the change was sent to. */
  workers: number;
  /** Of those, the ones that applied it. */
  applied: number;
}

export interface ReplayMessage {
  type: typeof SYNC.replay;
  entries: { kind: string; payload: unknown }[];
}

export interface ReloadMessage {
  type: typeof SYNC.reload;
  trigger: string;
}

export function isMessage<T extends { type: string }>(
  message: unknown,
  type: T['type'],
): message is T {
  return (
    typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type
  );
}
