/** The optional `GATEWAY_CONFIG` file (YAML or JSON): its settings and its routes. */
import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { errorMessage } from '../env-parsers';
import {
  gatewayConfigFileSchema,
  routeFileSchema,
  type RouteFileEntry,
} from '../gateway-config.schema';
import { ALL_SETTINGS } from '../settings';
import type { Report } from './report';
import {
  formatPath,
  isPlainObject,
  type Lenient,
  parseLeniently,
  type PathSegment,
  reportIssues,
} from './schema-issues';
import type { Env, RawSetting } from './settings';

export interface LoadedFile {
  /** The path as given in `GATEWAY_CONFIG`, used in problem lines. */
  label: string;
  /** Absolute path. */
  path: string;
  /** File settings keyed by the environment variable that overrides them. */
  settings: Map<string, RawSetting>;
  /** Routes (schema-valid, or salvaged), with their index in the file for messages. */
  routes: { index: number; parsed: Lenient<RouteFileEntry> }[];
}

export function readConfigFile(env: Env, cwd: string, report: Report): LoadedFile | undefined {
  const given = env.GATEWAY_CONFIG?.trim();
  if (given === undefined || given === '') {
    return undefined;
  }
  const path = resolve(cwd, given);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : errorMessage(error);
    report.problem('GATEWAY_CONFIG', `cannot read ${JSON.stringify(given)}: ${reason}`);
    return undefined;
  }

  const document = parseConfigText(text, extname(path).toLowerCase() === '.json', given, report);
  if (document === undefined) {
    return undefined;
  }
  // An empty YAML file is null: a file with no settings, not an error.
  const data: unknown = document ?? {};
  const label = (path: readonly PathSegment[]): string =>
    path.length === 0 ? given : `${given}: ${formatPath(path)}`;

  const full = gatewayConfigFileSchema.safeParse(data);
  if (!full.success) {
    reportIssues(full.error, gatewayConfigFileSchema, label, report);
  }

  // Keep the parts that are valid on their own, so their meaning is still checked and every
  // problem shows up in this run rather than after the schema errors are fixed.
  const record = isPlainObject(data) ? data : {};
  const shape: Record<string, z.ZodType> = gatewayConfigFileSchema.shape;
  const valid: Record<string, unknown> = {};
  for (const key of new Set(ALL_SETTINGS.map(({ path }) => path[0]))) {
    const part = parseLeniently(shape[key], record[key]);
    if (part !== undefined) {
      valid[key] = part.value;
    }
  }
  const routes = Array.isArray(record.routes)
    ? record.routes.flatMap((item: unknown, index) => {
        const parsed = parseLeniently(routeFileSchema, item);
        return parsed === undefined ? [] : [{ index, parsed }];
      })
    : [];

  return { label: given, path, settings: collectFileSettings(valid, label), routes };
}

/** @returns the parsed document, `null` for an empty one, or `undefined` after reporting. */
function parseConfigText(text: string, isJson: boolean, label: string, report: Report): unknown {
  if (isJson) {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      report.problem(label, `invalid JSON (${errorMessage(error)})`);
      return undefined;
    }
  }
  // YAML also reads JSON, so files without a known extension work either way.
  const document = parseDocument(text);
  const issues = [...document.errors, ...document.warnings];
  for (const issue of issues) {
    // The first line holds the message and position; the rest is a source excerpt.
    report.problem(label, issue.message.split('\n')[0].replace(/:$/, ''));
  }
  if (issues.length > 0) {
    return undefined;
  }
  // toJS() throws on alias bombs (more than 100 alias expansions).
  return report.attempt(label, () => document.toJS() as unknown);
}

/**
 * Flattens schema-valid file settings into environment-style text, keyed by variable. File values
 * go through the same string parsers as the environment, so both are validated by one code path
 * and report the same messages.
 */
function collectFileSettings(
  valid: Record<string, unknown>,
  label: (path: readonly PathSegment[]) => string,
): Map<string, RawSetting> {
  const out = new Map<string, RawSetting>();
  for (const { setting, path } of ALL_SETTINGS) {
    let value: unknown = valid;
    for (const key of path) {
      value = isPlainObject(value) ? value[key] : undefined;
    }
    if (value === undefined) {
      continue;
    }
    const text = setting.fileText(value);
    if (text !== undefined && text.trim() !== '') {
      out.set(setting.env, { value: text, label: label(path) });
    }
  }
  return out;
}
