import { stat } from 'node:fs/promises';
import { callMaybeInWorker, LARGE_INPUT_BYTES } from '../common/worker-call';
import {
  inspectConfigRoutes,
  patchConfigRoutes,
  rewriteConfigFile,
  type RouteOp,
} from './config-file-render';

export type { RouteOp } from './config-file-render';

/**
 * Top-level paths of the config file the admin API may rewrite, and their new values: `value`, or
 * `json`, the value already serialised (a large route list is built in slices by the caller).
 */
export type ConfigFilePatch = readonly (
  { path: readonly string[]; value: unknown } | { path: readonly string[]; json: string }
)[];

/** Files at least this large are read, changed and written on a worker thread. */
export const OFF_THREAD_BYTES = LARGE_INPUT_BYTES;

/** The module whose functions do the file work (on a worker thread for large files). */
const FILE_WORK = require.resolve('./config-file-render');

/**
 * Writes admin changes back into the `GATEWAY_CONFIG` file, atomically (temp file in the same
 * directory, then rename), so a crash never leaves half a file and the gateway restarts with the
 * change. YAML keeps its comments and layout outside the rewritten keys; JSON is re-indented.
 * Writes are serialised: two quick changes never interleave. A large file is handled on a worker
 * thread (see config-file-render.ts), so traffic is not held up meanwhile.
 */
export class ConfigFileWriter {
  private chain: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  /** Replaces the values at the patch's paths. */
  write(patch: ConfigFilePatch): Promise<void> {
    const patchJson = `[${patch
      .map(
        (p) =>
          `{"path":${JSON.stringify(p.path)},"value":${'json' in p ? p.json : JSON.stringify(p.value)}}`,
      )
      .join(',')}]`;
    return this.queue(async () =>
      callMaybeInWorker(
        { large: await this.isLarge(), file: FILE_WORK },
        rewriteConfigFile,
        this.path,
        patchJson,
      ),
    );
  }

  /** Changes single entries of `routes`, by name, leaving the others as they are. */
  patchRoutes(ops: readonly RouteOp[]): Promise<void> {
    const opsJson = JSON.stringify(ops);
    return this.queue(async () =>
      callMaybeInWorker(
        { large: await this.isLarge(), file: FILE_WORK },
        patchConfigRoutes,
        this.path,
        opsJson,
      ),
    );
  }

  /** The entries under the file's `routes` right now: how many, and whether all have a name. */
  async inspectRoutes(): Promise<{ routes: number; allNamed: boolean }> {
    return callMaybeInWorker(
      { large: await this.isLarge(), file: FILE_WORK },
      inspectConfigRoutes,
      this.path,
    );
  }

  private queue(work: () => Promise<void>): Promise<void> {
    const next = this.chain.then(work);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async isLarge(): Promise<boolean> {
    return (await stat(this.path)).size >= OFF_THREAD_BYTES;
  }
}
