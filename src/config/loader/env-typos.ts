/**
 * Environment variables that look like a misspelt gateway setting (`ENABLE_CACHE`,
 * `MAX_REQUEST_PER_SECOND`, `GATEWAY_PROT`). The gateway reads only the names it knows, so such a
 * variable is silently ignored and the default applies; this finds them, with the name meant.
 * `ROUTE_<NAME>_*` variables have their own check.
 */
import { editDistance } from '../../common/edit-distance';
import { ALL_SETTINGS } from '../settings';
import type { Report } from './report';
import type { Env } from './settings';

/** Variables the loader reads that are not settings of the config file. */
const OTHER_NAMES = ['GATEWAY_CONFIG', 'SERVICE_ROUTES', 'ENABLE_VXCLOUD_DEFAULT_ROUTES'];

let knownNames: ReadonlySet<string> | undefined;

/** Every variable name the gateway reads (settings, plus the few outside the file). */
export function knownVariables(): ReadonlySet<string> {
  knownNames ??= new Set([...ALL_SETTINGS.map(({ setting }) => setting.env), ...OTHER_NAMES]);
  return knownNames;
}

/**
 * The known name `name` is most likely a misspelling of, if any: close in optimal string
 * alignment distance (a swap of two letters counts once), at most 4 edits and at most 30% of
 * the known name, so `REDIS_PASS` finds `REDIS_PASSWORD` while `REDIS_PORT` is left alone.
 */
export function misspeltVariable(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    if (Math.abs(candidate.length - name.length) > 4) {
      continue;
    }
    const distance = editDistance(name, candidate, true);
    if (
      distance > 0 &&
      distance <= 4 &&
      distance <= candidate.length * 0.3 &&
      distance < bestDistance
    ) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** One warning per variable that is not a gateway setting but looks like one. */
export function warnAboutMisspeltVariables(env: Env, report: Report): void {
  const known = knownVariables();
  for (const [name, value] of Object.entries(env)) {
    // Settings are upper-case by convention; a lower-case or mixed name is someone else's.
    if (value === undefined || !/^[A-Z][A-Z0-9_]*$/.test(name) || known.has(name)) {
      continue;
    }
    if (name.startsWith('ROUTE_')) {
      continue;
    }
    const meant = misspeltVariable(name, known);
    if (meant !== undefined) {
      report.warn(
        `${name} is not a gateway setting and is ignored; did you mean ${meant}? (${meant} keeps its ${env[meant] === undefined ? 'default' : 'own value'})`,
      );
    }
  }
}
