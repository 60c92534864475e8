/**
 * `npm run config:check [-- FILE]`: validates the configuration without starting anything.
 *
 * With FILE, it is used as `GATEWAY_CONFIG`; the environment and `./.env` still apply, so the check
 * covers exactly what `npm start` would load. Prints `OK: N routes` and exits 0, or one line per
 * problem on stderr and exits 1. Warnings go to stderr and do not fail the check.
 */
import { loadGatewayConfig } from './load-config';

const USAGE = 'usage: config-check [FILE]   (default: $GATEWAY_CONFIG and the environment)\n';

export interface ConfigCheckIo {
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** @returns the process exit code. */
export function runConfigCheck(args: readonly string[], io: ConfigCheckIo): number {
  const [file, ...extra] = args;
  if (file === '-h' || file === '--help') {
    io.stdout(USAGE);
    return 0;
  }
  if (extra.length > 0) {
    io.stderr(USAGE);
    return 2;
  }

  const result = loadGatewayConfig({
    env: file === undefined ? io.env : { ...io.env, GATEWAY_CONFIG: file },
    cwd: io.cwd,
  });
  if (!result.ok) {
    io.stderr(result.problems.map((problem) => `${problem}\n`).join(''));
    return 1;
  }
  io.stderr(result.warnings.map((warning) => `warning: ${warning}\n`).join(''));
  // Fixed wording (no singular), so scripts can match /^OK: \d+ routes$/.
  io.stdout(`OK: ${result.config.routes.length} routes\n`);
  return 0;
}

if (require.main === module) {
  process.exitCode = runConfigCheck(process.argv.slice(2), {
    env: process.env,
    cwd: process.cwd(),
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  });
}
