import { Worker } from 'node:worker_threads';

/**
 * Runs in the worker: requires the module, calls the export, posts back the value or the error.
 * Plain JavaScript evaluated by the worker, so it needs no file of its own in `dist/`.
 */
const BOOTSTRAP = `
const { parentPort, workerData } = require('node:worker_threads');
Promise.resolve()
  .then(() => require(workerData.file)[workerData.name](...workerData.args))
  .then(
    (value) => parentPort.postMessage({ ok: true, value }),
    (error) =>
      parentPort.postMessage({
        ok: false,
        error: error instanceof Error ? error.stack || error.message : String(error),
      }),
  );
`;

/**
 * Whether `file` can be loaded by a worker: compiled JavaScript. The test runner loads the
 * TypeScript sources through its own transform, which a worker thread does not have; callers
 * then do the work on the calling thread instead.
 */
export function canCallInWorker(file: string): boolean {
  return file.endsWith('.js') || file.endsWith('.cjs');
}

/**
 * Calls the export `name` of the module `file` with `args` in a new worker thread and resolves
 * with its result, so CPU-heavy work (parsing and validating a large configuration) does not hold
 * up the event loop. Arguments and result cross by structured clone: plain data only. The worker
 * starts with a copy of the process's environment as it is now. It exits when done.
 */
export function callInWorker<T>(file: string, name: string, args: readonly unknown[]): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const worker = new Worker(BOOTSTRAP, { eval: true, workerData: { file, name, args } });
    let settled = false;
    worker.once('message', (message: { ok: boolean; value?: T; error?: string }) => {
      settled = true;
      if (message.ok) {
        resolve(message.value as T);
      } else {
        reject(new Error(`${name} in a worker thread failed: ${message.error}`));
      }
      void worker.terminate();
    });
    worker.once('error', (error) => {
      if (!settled) {
        settled = true;
        reject(error);
      }
    });
    worker.once('exit', (code) => {
      if (!settled) {
        settled = true;
        reject(new Error(`${name}: worker thread exited with code ${code} before answering`));
      }
    });
  });
}

/**
 * `fn(...args)` in a worker thread when `large` and `file` (the module exporting `fn` under its
 * own name; pass `__filename`) is compiled, else right here. The two give the same result; the
 * worker only keeps a large job's CPU time off the event loop.
 */
export function callMaybeInWorker<A extends unknown[], R>(
  large: boolean,
  file: string,
  fn: (...args: A) => R,
  ...args: A
): Promise<Awaited<R>> {
  if (large && canCallInWorker(file)) {
    return callInWorker<Awaited<R>>(file, fn.name, args);
  }
  return Promise.resolve().then(() => fn(...args)) as Promise<Awaited<R>>;
}
