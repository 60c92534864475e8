import type { Worker } from 'node:cluster';
import type { Logger } from 'pino';

/** What the primary needs to know; built from the validated config by `runClusterPrimary`'s caller. */
export interface ClusterPrimaryOptions {
  /** Worker processes to keep running. */
  workers: number;
  /**
   * The gateway's listen port: a worker counts as booted when it listens there (not when it
   * opens another listener first, such as the built-in demo upstream). Undefined: any listener.
   */
  port?: number;
  /** The gateway's SHUTDOWN_TIMEOUT: each worker's own drain bound. */
  shutdownTimeoutMs: number;
  /** The gateway's SHUTDOWN_DELAY: how long each worker keeps serving after SIGTERM. @default 0 */
  shutdownDelayMs?: number;
  /** Added to `shutdownTimeoutMs` before the primary kills workers that still have not exited. @default 5000 */
  shutdownMarginMs?: number;
  /** Workers that died before listening, in a row, after which the primary gives up. @default 5 */
  maxBootFailures?: number;
  /** First restart delay; doubles per recent death up to `maxRestartDelayMs`. @default 100 */
  restartDelayMs?: number;
  /** @default 10000 */
  maxRestartDelayMs?: number;
  /** A worker listening this long counts as stable: the restart back-off starts over. @default 30000 */
  stableAfterMs?: number;
}

/** The part of `node:cluster` the primary uses; a parameter so tests can drive it with fakes. */
export interface ClusterLike {
  fork(): Worker;
  on(event: 'exit', listener: (worker: Worker, code: number, signal: string) => void): unknown;
  on(
    event: 'listening',
    listener: (worker: Worker, address: { port: number | string }) => void,
  ): unknown;
}

/** Signals and exit of the primary's own process; a parameter for tests. */
export interface PrimaryProcess {
  on(signal: NodeJS.Signals, listener: () => void): unknown;
  exit(code: number): void;
}

interface WorkerState {
  listening: boolean;
  listeningAt: number;
}

/**
 * The node:cluster primary behind `GATEWAY_WORKERS > 1`. It loads neither Nest nor any upstream
 * pool: it only forks workers (each a full gateway that shares the listen port through the
 * primary's round-robin on Linux), replaces a worker that dies, and drains them all on
 * SIGTERM/SIGINT.
 *
 * - A dead worker is replaced after a back-off that doubles with each recent death (a worker
 *   that stayed up `stableAfterMs` resets it), so a bug that kills workers under load does not
 *   turn into a fork storm.
 * - A worker that dies before it listens is a boot failure (bad certificate, port taken,
 *   unreachable JWKS at boot...). After `maxBootFailures` in a row the primary stops everything
 *   and exits 1: a supervisor (systemd, Kubernetes) then reports a crash loop instead of the
 *   primary hiding one forever.
 * - On SIGTERM/SIGINT every worker gets the same signal and runs the gateway's own graceful
 *   close (SIGTERM with its SHUTDOWN_DELAY, SIGINT without); the primary exits when all have
 *   exited (0 if they all exited cleanly), or kills the rest after the delay (on SIGTERM),
 *   SHUTDOWN_TIMEOUT and a margin, and exits 1. A crash loop stops the workers with SIGINT.
 *
 * @returns a promise settled when the primary has decided its exit code (it also calls
 *   `proc.exit` with it).
 */
export function runClusterPrimary(
  cluster: ClusterLike,
  options: ClusterPrimaryOptions,
  logger: Logger,
  proc: PrimaryProcess = process,
): Promise<number> {
  const maxBootFailures = options.maxBootFailures ?? 5;
  const baseDelay = options.restartDelayMs ?? 100;
  const maxDelay = options.maxRestartDelayMs ?? 10_000;
  const stableAfterMs = options.stableAfterMs ?? 30_000;
  const drainBoundMs = options.shutdownTimeoutMs + (options.shutdownMarginMs ?? 5_000);

  const states = new Map<Worker, WorkerState>();
  const pendingRestarts = new Set<NodeJS.Timeout>();
  let bootFailures = 0;
  let recentDeaths = 0;
  let stopping = false;
  let failed = false;
  let resolveExit: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (resolveExit = resolve));

  const fork = (): void => {
    const worker = cluster.fork();
    states.set(worker, { listening: false, listeningAt: 0 });
  };

  const finish = (code: number): void => {
    for (const timer of pendingRestarts) {
      clearTimeout(timer);
    }
    pendingRestarts.clear();
    resolveExit(code);
    proc.exit(code);
  };

  const stopAll = (reason: string, exitCode: number, signal: 'SIGTERM' | 'SIGINT'): void => {
    stopping = true;
    const shutdownBoundMs =
      drainBoundMs + (signal === 'SIGTERM' ? (options.shutdownDelayMs ?? 0) : 0);
    failed = failed || exitCode !== 0;
    for (const timer of pendingRestarts) {
      clearTimeout(timer);
    }
    pendingRestarts.clear();
    logger.info({ workers: states.size, reason }, 'primary: draining all workers');
    if (states.size === 0) {
      finish(failed ? 1 : 0);
      return;
    }
    for (const worker of states.keys()) {
      // The worker's own graceful close (the same code as a single process).
      worker.process.kill(signal);
    }
    const killer = setTimeout(() => {
      logger.error(
        { workers: states.size, boundMs: shutdownBoundMs },
        'primary: workers still running after SHUTDOWN_TIMEOUT; killing them',
      );
      failed = true;
      for (const worker of states.keys()) {
        worker.process.kill('SIGKILL');
      }
    }, shutdownBoundMs);
    killer.unref();
  };

  cluster.on('listening', (worker, address) => {
    const state = states.get(worker);
    if (options.port !== undefined && Number(address.port) !== options.port) {
      return;
    }
    if (state !== undefined && !state.listening) {
      state.listening = true;
      state.listeningAt = Date.now();
      bootFailures = 0;
      logger.info({ worker: worker.process.pid }, 'primary: worker listening');
    }
  });

  cluster.on('exit', (worker, code, signal) => {
    const state = states.get(worker);
    states.delete(worker);
    if (stopping) {
      if (code !== 0) {
        failed = true;
      }
      if (states.size === 0) {
        logger.info({ failed }, 'primary: all workers exited');
        finish(failed ? 1 : 0);
      }
      return;
    }
    const bootFailure = state === undefined || !state.listening;
    if (bootFailure) {
      bootFailures += 1;
    } else if (Date.now() - state.listeningAt >= stableAfterMs) {
      recentDeaths = 0;
    }
    if (bootFailures >= maxBootFailures) {
      logger.fatal(
        { worker: worker.process.pid, code, signal, bootFailures },
        'primary: workers keep dying before they listen; giving up',
      );
      stopAll('crash loop', 1, 'SIGINT');
      return;
    }
    const delay = Math.min(maxDelay, baseDelay * 2 ** recentDeaths);
    recentDeaths += 1;
    logger.error(
      { worker: worker.process.pid, code, signal, restartInMs: delay, bootFailure },
      'primary: worker died; starting a replacement',
    );
    const timer = setTimeout(() => {
      pendingRestarts.delete(timer);
      if (!stopping) {
        fork();
      }
    }, delay);
    pendingRestarts.add(timer);
  });

  // Repeated signals (Ctrl-C twice, a supervisor signalling the whole group) are ignored while
  // draining: the drain is bounded anyway, and dying here would orphan the workers' drains.
  const onSignal = (signal: 'SIGTERM' | 'SIGINT') => () => {
    if (!stopping) {
      stopAll(signal, 0, signal);
    }
  };
  proc.on('SIGTERM', onSignal('SIGTERM'));
  proc.on('SIGINT', onSignal('SIGINT'));

  for (let i = 0; i < options.workers; i++) {
    fork();
  }
  logger.info({ workers: options.workers, pid: process.pid }, 'primary: workers started');
  return done;
}
