import { randomBytes } from 'node:crypto';
import { readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { isMap, isSeq, parse, parseDocument, type Document, type YAMLSeq } from 'yaml';

/**
 * The file work of writing admin changes back into the config file: read, parse, change, print,
 * replace atomically. Apart from ConfigFileWriter so it can run on a worker thread for a large
 * file (a 20,000-route YAML file takes seconds to parse and print, a JSON one tens of ms).
 * Arguments and results are plain data.
 */

/** One change to the file's `routes` list, by route name (compared trimmed, lower-case). */
export type RouteOp = { op: 'put'; name: string; entry: unknown } | { op: 'remove'; name: string };

/** Sets every `{path, value}` of `patchJson` (a JSON array) in the file. */
export async function rewriteConfigFile(path: string, patchJson: string): Promise<void> {
  const patch = JSON.parse(patchJson) as { path: string[]; value: unknown }[];
  await change(path, {
    json: (data) => {
      for (const { path: at, value } of patch) {
        setIn(data, at, value);
      }
    },
    yaml: (document) => {
      for (const { path: at, value } of patch) {
        document.setIn(at, document.createNode(value));
      }
    },
  });
}

/**
 * Applies `opsJson` (a JSON array of RouteOp) to the file's `routes`: `put` replaces the entry of
 * that name in place, or appends it; `remove` drops it. Entries the file has that no op names
 * stay as they are.
 */
export async function patchConfigRoutes(path: string, opsJson: string): Promise<void> {
  const ops = JSON.parse(opsJson) as RouteOp[];
  await change(path, {
    json: (data) => {
      const routes = Array.isArray(data.routes) ? (data.routes as unknown[]) : [];
      data.routes = routes;
      for (const op of ops) {
        const at = routes.findIndex((r) => nameOf(r) === op.name);
        if (op.op === 'remove') {
          if (at >= 0) {
            routes.splice(at, 1);
          }
        } else if (at >= 0) {
          routes[at] = op.entry;
        } else {
          routes.push(op.entry);
        }
      }
    },
    yaml: (document) => {
      const found = document.get('routes', true);
      const seq = isSeq(found) ? found : (document.createNode([]) as YAMLSeq);
      if (seq !== found) {
        document.set('routes', seq);
      }
      for (const op of ops) {
        const at = seq.items.findIndex(
          (item) => isMap(item) && normalName(item.get('name')) === op.name,
        );
        if (op.op === 'remove') {
          if (at >= 0) {
            seq.items.splice(at, 1);
          }
        } else if (at >= 0) {
          seq.items[at] = document.createNode(op.entry);
        } else {
          seq.items.push(document.createNode(op.entry));
        }
      }
    },
  });
}

/**
 * How many entries the file's `routes` has, and whether every one names itself (then its entries
 * can be found by name, which `patchConfigRoutes` relies on).
 */
export async function inspectConfigRoutes(
  path: string,
): Promise<{ routes: number; allNamed: boolean }> {
  const text = await readFile(path, 'utf8');
  const data = (text.trim() === '' ? null : isJsonFile(path) ? JSON.parse(text) : parse(text)) as {
    routes?: unknown;
  } | null;
  const routes = Array.isArray(data?.routes) ? (data.routes as unknown[]) : [];
  return {
    routes: routes.length,
    allNamed: routes.every((r) => nameOf(r) !== undefined),
  };
}

function isJsonFile(path: string): boolean {
  return extname(path).toLowerCase() === '.json';
}

function normalName(name: unknown): string | undefined {
  return typeof name === 'string' && name.trim() !== '' ? name.trim().toLowerCase() : undefined;
}

function nameOf(entry: unknown): string | undefined {
  return typeof entry === 'object' && entry !== null
    ? normalName((entry as { name?: unknown }).name)
    : undefined;
}

/**
 * Reads the file, lets `edit` change it (JSON data, or the YAML document, which keeps comments
 * and layout outside the changed keys), and writes it back atomically: a temp file in the same
 * directory with the same mode, then a rename, so a crash never leaves half a file.
 */
async function change(
  path: string,
  edit: { json(data: Record<string, unknown>): void; yaml(document: Document): void },
): Promise<void> {
  const text = await readFile(path, 'utf8');
  let output: string;
  if (isJsonFile(path)) {
    const data = (text.trim() === '' ? {} : JSON.parse(text)) as Record<string, unknown>;
    edit.json(data);
    output = `${JSON.stringify(data, null, 2)}\n`;
  } else {
    const document = parseDocument(text);
    if (document.errors.length > 0) {
      throw document.errors[0];
    }
    if (document.contents === null) {
      document.contents = document.createNode({}) as unknown as typeof document.contents;
    }
    edit.yaml(document);
    output = document.toString();
  }
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const mode = (await stat(path)).mode & 0o777;
  try {
    await writeFile(temp, output, { mode });
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
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
