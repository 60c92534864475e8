import { randomBytes } from 'node:crypto';
import { readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';

/** Top-level paths of the config file the admin API may rewrite, and their new values. */
export type ConfigFilePatch = readonly { path: readonly string[]; value: unknown }[];

/**
 * Writes admin changes back into the `GATEWAY_CONFIG` file, atomically (temp file in the same
 * directory, then rename), so a crash never leaves half a file and the gateway restarts with the
 * change. YAML keeps its comments and layout outside the rewritten keys; JSON is re-indented.
 * Writes are serialised: two quick changes never interleave.
 */
export class ConfigFileWriter {
  private chain: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  write(patch: ConfigFilePatch): Promise<void> {
    const next = this.chain.then(() => this.apply(patch));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async apply(patch: ConfigFilePatch): Promise<void> {
    const text = await readFile(this.path, 'utf8');
    let output: string;
    if (extname(this.path).toLowerCase() === '.json') {
      const data = (text.trim() === '' ? {} : JSON.parse(text)) as Record<string, unknown>;
      for (const { path, value } of patch) {
        setIn(data, path, value);
      }
      output = `${JSON.stringify(data, null, 2)}\n`;
    } else {
      const document = parseDocument(text);
      if (document.contents === null) {
        document.contents = document.createNode({}) as unknown as typeof document.contents;
      }
      for (const { path, value } of patch) {
        document.setIn(path, document.createNode(value));
      }
      output = document.toString();
    }
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

function setIn(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const child = node[key];
    if (typeof child !== 'object' || child === null || Array.isArray(child)) {
      node[key] = {};
    }
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}
