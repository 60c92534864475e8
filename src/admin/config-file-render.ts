import { parse, parseDocument } from 'yaml';

/**
 * The CPU-heavy part of writing admin changes back into the config file, apart so it can run on
 * a worker thread for large files (a 20,000-route YAML file takes seconds to parse and print).
 * Pure functions of plain data; the caller does the file I/O.
 */

/**
 * `text` with every `{path, value}` of `patchJson` (a JSON array) set. YAML keeps its comments
 * and layout outside the rewritten keys; JSON is re-indented.
 */
export function renderConfigFile(text: string, isJson: boolean, patchJson: string): string {
  const patch = JSON.parse(patchJson) as { path: string[]; value: unknown }[];
  if (isJson) {
    const data = (text.trim() === '' ? {} : JSON.parse(text)) as Record<string, unknown>;
    for (const { path, value } of patch) {
      setIn(data, path, value);
    }
    return `${JSON.stringify(data, null, 2)}\n`;
  }
  const document = parseDocument(text);
  if (document.errors.length > 0) {
    throw document.errors[0];
  }
  if (document.contents === null) {
    document.contents = document.createNode({}) as unknown as typeof document.contents;
  }
  for (const { path, value } of patch) {
    document.setIn(path, document.createNode(value));
  }
  return document.toString();
}

/** Number of entries under the file's top-level `routes` (0 when there is none). */
export function countFileRoutes(text: string, isJson: boolean): number {
  const data = (text.trim() === '' ? null : isJson ? JSON.parse(text) : parse(text)) as {
    routes?: unknown;
  } | null;
  return Array.isArray(data?.routes) ? data.routes.length : 0;
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
