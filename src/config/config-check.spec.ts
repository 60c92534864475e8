import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runConfigCheck } from './config-check';

describe('config-check CLI', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'config-check-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function check(
    args: string[],
    env: NodeJS.ProcessEnv = {},
  ): { code: number; stdout: string; stderr: string } {
    let stdout = '';
    let stderr = '';
    const code = runConfigCheck(args, {
      env,
      cwd: dir,
      stdout: (text) => (stdout += text),
      stderr: (text) => (stderr += text),
    });
    return { code, stdout, stderr };
  }

  it('should print OK with the route count for a valid file', () => {
    writeFileSync(join(dir, 'ok.yaml'), 'routes:\n  - prefix: /a\n    target_url: h:1\n');

    expect(check(['ok.yaml'])).toEqual({ code: 0, stdout: 'OK: 1 routes\n', stderr: '' });
  });

  it('should check GATEWAY_CONFIG and the environment when no file is given', () => {
    const result = check([], {
      ROUTE_A_URL: 'h:1',
      ROUTE_A_PREFIX: '/a',
      ROUTE_B_URL: 'h:2',
      ROUTE_B_PREFIX: '/b',
    });

    expect(result).toEqual({ code: 0, stdout: 'OK: 2 routes\n', stderr: '' });
  });

  it('should print warnings on stderr without failing', () => {
    expect(check([])).toEqual({
      code: 0,
      stdout: 'OK: 0 routes\n',
      stderr: expect.stringMatching(/^warning: no routes configured/) as string,
    });
  });

  it('should print one line per problem on stderr and exit 1', () => {
    writeFileSync(join(dir, 'bad.yaml'), 'server:\n  prot: 1\nroutes:\n  - prefix: /a\n');

    const result = check(['bad.yaml'], { CACHE_TTL: '5' });

    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      'bad.yaml: server.prot: unknown key (did you mean "port"?)',
      'CACHE_TTL: invalid duration "5" (missing unit, e.g. "5s")',
      'bad.yaml: routes[0]: no upstream (set target_url or targets)',
    ]);
  });

  it('should reject extra arguments with usage', () => {
    expect(check(['a.yaml', 'b.yaml'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^usage:/) as string,
    });
  });
});
