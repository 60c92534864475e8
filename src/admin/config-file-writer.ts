import { randomBytes } from 'node:crypto';
import { readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { callMaybeInWorker } from '../common/worker-call';
import { countFileRoutes, renderConfigFile } from './config-file-render';

/**
 * Top-level paths of the config file the admin API may rewrite, and their new values: `value`, or
 * `json`, the value already serialised (a large route list is built in slices by the caller).
 */
export type ConfigFilePatch = readonly (
  { path: readonly string[]; value: unknown } | { path: readonly string[]; json: string }
)[];

/** Files (with the patch) at least this large are parsed and printed on a worker thread. */
export const OFF_THREAD_BYTES = 256 * 1024;

/**
 * Writes admin changes back into the `GATEWAY_CONFIG` file, atomically (temp file in the same
 * directory, then rename), so a crash never leaves half a file and the gateway restarts with the
 * change. YAML keeps its comments and layout outside the rewritten keys; JSON is re-indented.
 * Writes are serialised: two quick changes never interleave. A large file is parsed and printed on
 * a worker thread, so traffic is not held up meanwhile.
 */
export class ConfigFileWriter {
  private chain: Promise<void> = Promise.resolve();
  private readonly isJson: boolean;

  constructor(readonly path: string) {
    this.isJson = extname(path).toLowerCase() === '.json';
  }

  write(patch: ConfigFilePatch): Promise<void> {
    const next = this.chain.then(() => this.apply(patch));
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Entries under the file's top-level `routes` right now. */
  async countRoutes(): Promise<number> {
    const text = await readFile(this.path, 'utf8');
    return callMaybeInWorker(
      text.length >= OFF_THREAD_BYTES,
      require.resolve('./config-file-render'),
      countFileRoutes,
      text,
      this.isJson,
    );
  }

  private async apply(patch: ConfigFilePatch): Promise<void> {
    const text = await readFile(this.path, 'utf8');
    const patchJson = `[${patch
      .map(
        (p) =>
          `{"path":${JSON.stringify(p.path)},"value":${'json' in p ? p.json : JSON.stringify(p.value)}}`,
      )
      .join(',')}]`;
    const output = await callMaybeInWorker(
      text.length + patchJson.length >= OFF_THREAD_BYTES,
      require.resolve('./config-file-render'),
      renderConfigFile,
      text,
      this.isJson,
      patchJson,
    );
    const temp = `${this.path}.${randomBytes(6).toString('hex')}.tmp`;
    const mode = (await stat(this.path)).mode & 0o777;
    try {
      await writeFile(temp, output, { mode });
      await rename(temp, this.path);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
  }
}
