import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');

/** Absolute path of a program on this machine's PATH. */
function which(name: string): string {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return realpathSync(r.stdout.trim());
}

/**
 * `npm test` on a machine that has node, npm and a shell but none of the programs the suites
 * need: a PATH holding only those three (plus `extra` fake programs).
 */
function npmTestWith(extra: string[]): { status: number | null; stderr: string; ms: number } {
  const bin = mkdtempSync(join(tmpdir(), 'gw-path-'));
  try {
    symlinkSync(process.execPath, join(bin, 'node'));
    symlinkSync(which('npm'), join(bin, 'npm'));
    symlinkSync(which('sh'), join(bin, 'sh'));
    for (const name of extra) {
      writeFileSync(join(bin, name), '#!/bin/sh\nexit 0\n');
      chmodSync(join(bin, name), 0o755);
    }
    const started = Date.now();
    // Only the pretest check may run: it must stop npm test before format:check starts.
    const r = spawnSync('npm', ['test', '--silent'], {
      cwd: ROOT,
      env: { PATH: bin, HOME: process.env.HOME ?? tmpdir() },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: r.status, stderr: r.stderr, ms: Date.now() - started };
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
}

describe('npm test on a machine without the programs the suites need', () => {
  it('should stop within seconds, naming every missing program and the command that installs them', () => {
    const r = npmTestWith([]);
    expect(r.status).toBe(1);
    expect(r.ms).toBeLessThan(10_000);
    for (const program of [
      'redis-server',
      'redis-cli',
      'promtool',
      'prometheus',
      'tmux',
      'openssl',
      'python3',
      'nginx',
    ]) {
      expect(r.stderr).toContain(program);
    }
    expect(r.stderr).toContain(
      'apt-get install -y --no-install-recommends redis-server redis-tools prometheus tmux openssl python3 nginx',
    );
    expect(r.stderr).toContain('bash .ci/run');
    // One message, before anything else of npm test ran.
    expect(r.stderr).not.toMatch(/prettier|eslint|Checking formatting/);
  });

  it('should name only what is still missing', () => {
    const r = npmTestWith([
      'redis-server',
      'redis-cli',
      'promtool',
      'prometheus',
      'openssl',
      'python3',
      'nginx',
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/missing \(npm cannot install it\): tmux\n/);
    expect(r.stderr).toContain('--no-install-recommends tmux\n');
  });

  it('should list the packages .ci/run installs, none on this machine', () => {
    const r = spawnSync(process.execPath, ['scripts/check-test-programs.js', '--apt-packages'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect([r.status, r.stdout]).toEqual([0, '']);
  });
});
