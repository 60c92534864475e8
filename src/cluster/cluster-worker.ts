import cluster from 'node:cluster';
import type { Logger } from 'pino';

/**
 * Inside a cluster worker: the IPC channel to the primary can break (primary killed, EPIPE while
 * closing the shared listener during a drain). Node reports that as an 'error' on the worker,
 * which would crash a worker in the middle of finishing its in-flight requests.
 */
export function guardWorkerChannel(logger: Logger): void {
  cluster.worker?.on('error', (err: Error) => {
    logger.warn({ err: err.message }, 'lost the channel to the cluster primary');
  });
}
