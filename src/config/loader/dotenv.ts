import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { errorMessage } from '../env-parsers';
import type { Report } from './report';
import type { Env } from './settings';

/**
 * Adds `<cwd>/.env` under the real environment. A variable present in the environment wins even
 * when empty, exactly like godotenv, so `FOO= node dist/main.js` can still blank out a `.env` line.
 * Unlike Go (D27), `LOG_LEVEL` from `.env` is honoured: it is read here like everything else.
 */
export function withDotEnv(env: NodeJS.ProcessEnv, cwd: string, report: Report): Env {
  const path = resolve(cwd, '.env');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      report.problem(path, `cannot read: ${errorMessage(error)}`);
    }
    return { ...env };
  }
  const merged: Record<string, string | undefined> = parseEnv(text);
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined) {
      merged[name] = value;
    }
  }
  return merged;
}
