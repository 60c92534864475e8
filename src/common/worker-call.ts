import { Worker } from 'node:worker_threads';

/**
 * Inputs (a config file, a stored route table) from this size are worth a worker thread: below,
 * the work takes a few ms and a worker's start-up (its own isolate, the modules loaded again)
 * would cost more.
 */
export const LARGE_INPUT_BYTES = 256 * 1024;

/** Items per message when a result's array is sent in parts. */
const PART_ITEMS = 500;

/**
 * Runs in the worker: requires the module, calls the export, posts back the value or the error.
 * A large array under a key of the result is posted in parts first, each after the calling thread
 * took the previous one in and gave its event loop a turn, so taking the result in is many short
 * steps rather than one long one (20,000 routes take tens of ms to deserialise).
 * Plain JavaScript evaluated by the worker, so it needs no file of its own in `dist/`.
 */
const BOOTSTRAP = `
const { parentPort, workerData } = require('node:worker_threads');
const PART = ${PART_ITEMS};
if (workerData.nice > 0) {
  try {
    // On Linux, pid 0 is the calling thread: only this worker gets the lower priority.
    require('node:os').setPriority(0, workerData.nice);
  } catch {
    // Not allowed here: run at the normal priority.
  }
}
Promise.resolve()
  .then(() => require(workerData.file)[workerData.name](...workerData.args))
  .then(
    (value) => {
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        const rest = { ...value };
        return (async () => {
          for (const [key, items] of Object.entries(value)) {
            if (Array.isArray(items) && items.length > PART) {
              for (let i = 0; i < items.length; i += PART) {
                parentPort.postMessage({ part: key, items: items.slice(i, i + PART) });
                // The next part once the caller took this one in and had a turn of its loop.
                await new Promise((resolve) => parentPort.once('message', resolve));
              }
              rest[key] = [];
            }
          }
          parentPort.postMessage({ ok: true, value: rest });
        })();
      }
      parentPort.postMessage({ ok: true, value });
    },
    (error) =>
      parentPort.postMessage({
        ok: false,
        error: error instanceof Error ? error.stack || error.message : String(error),
      }),
  );
`;

type WorkerMessage<T> =
  { part: string; items: unknown[] } | { ok: true; value: T } | { ok: false; error: string };

/**
 * Whether `file` can be loaded by a worker: compiled JavaScript. The test runner loads the
 * TypeScript sources through its own transform, which a worker thread does not have; callers
 * then do the work on the calling thread instead.
 */
export function canCallInWorker(file: string): boolean {
  return file.endsWith('.js') || file.endsWith('.cjs');
}

export interface WorkerCallOptions {
  /** Run the thread at a lower priority (see `callInWorker`). */
  background?: boolean;
  /**
   * Sees each part of a large array of the result as it comes in, and may replace its items:
   * the caller can keep what it needs of a part (an equal object it already holds) and let the
   * rest die young, instead of holding the whole result until the last part.
   */
  onPart?: (key: string, items: unknown[]) => unknown[];
}

/** The nice value of a background worker thread (0 is normal, 19 the lowest priority). */
const BACKGROUND_NICE = 10;

/**
 * Calls the export `name` of the module `file` with `args` in a new worker thread and resolves
 * with its result, so CPU-heavy work (parsing and validating a large configuration) does not hold
 * up the event loop. Arguments and result cross by structured clone: plain data only. The worker
 * starts with a copy of the process's environment as it is now. It exits when done.
 *
 * `background`: the thread runs at a lower priority, so that where it shares a core with the
 * event loop (a gateway pinned to one core), requests in flight go first.
 */
export function callInWorker<T>(
  file: string,
  name: string,
  args: readonly unknown[],
  options: WorkerCallOptions = {},
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const nice = options.background === true ? BACKGROUND_NICE : 0;
    const worker = new Worker(BOOTSTRAP, { eval: true, workerData: { file, name, args, nice } });
    let settled = false;
    const parts = new Map<string, unknown[]>();
    worker.on('message', (message: WorkerMessage<T>) => {
      if ('part' in message) {
        const items = parts.get(message.part) ?? [];
        parts.set(message.part, items);
        const taken = options.onPart?.(message.part, message.items) ?? message.items;
        for (const item of taken) {
          items.push(item);
        }
        setImmediate(() => worker.postMessage('next'));
        return;
      }
      settled = true;
      if (message.ok) {
        const value = message.value as Record<string, unknown>;
        for (const [key, items] of parts) {
          value[key] = items;
        }
        resolve(value as T);
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
 * `fn(...args)` in a background worker thread (see `callInWorker`) when `large` and `file` (the
 * module exporting `fn` under its own name) is compiled, else right here. The two give the same
 * result; the worker only keeps a large job's CPU time off the event loop. `onPart` sees the
 * large arrays of the result (see WorkerCallOptions), here in one part.
 */
export async function callMaybeInWorker<A extends unknown[], R>(
  how: { large: boolean; file: string; onPart?: WorkerCallOptions['onPart'] },
  fn: (...args: A) => R,
  ...args: A
): Promise<Awaited<R>> {
  if (how.large && canCallInWorker(how.file)) {
    return callInWorker<Awaited<R>>(how.file, fn.name, args, {
      background: true,
      onPart: how.onPart,
    });
  }
  const value = await fn(...args);
  const onPart = how.onPart;
  if (
    onPart !== undefined &&
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value)
  ) {
    const record = value as Record<string, unknown>;
    for (const [key, items] of Object.entries(record)) {
      if (Array.isArray(items)) {
        record[key] = onPart(key, items);
      }
    }
  }
  return value;
}
