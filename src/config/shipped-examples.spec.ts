import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runConfigCheck } from './config-check';

const root = resolve(__dirname, '..', '..');

/** `config:check` in `cwd` with nothing from the environment: what a reader who copied it runs. */
function check(cwd: string, args: string[] = []): { code: number; stdout: string; stderr: string } {
  const out: string[] = [];
  const err: string[] = [];
  const code = runConfigCheck(args, {
    env: {},
    cwd,
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
  });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** The YAML configuration examples (blocks with `routes:`) of README.md and docs/*.md. */
function documentedYamlExamples(): { where: string; yaml: string }[] {
  const files = [
    'README.md',
    ...readdirSync(join(root, 'docs'))
      .filter((name) => name.endsWith('.md'))
      .map((name) => `docs/${name}`),
  ];
  return files.flatMap((file) =>
    [...readFileSync(join(root, file), 'utf8').matchAll(/^```ya?ml\n([\s\S]*?)^```$/gm)]
      .map((match) => ({ where: file, yaml: match[1] }))
      .filter((example) => /^routes:/m.test(example.yaml)),
  );
}

describe('shipped configuration examples', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gw-examples-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('should pass config:check for every YAML example in the README and docs, without warnings', () => {
    const examples = documentedYamlExamples();
    // The README's security_headers example and the rate-limiting guide's at least.
    expect(examples.length).toBeGreaterThanOrEqual(2);

    const results = examples.map(({ where, yaml }, i) => {
      const file = join(dir, `example-${i}.yaml`);
      writeFileSync(file, yaml);
      const { code, stdout, stderr } = check(dir, [file]);
      return { where, code, stdout: stdout.replace(/\d+/, 'N'), stderr };
    });

    expect(results).toEqual(
      examples.map(({ where }) => ({ where, code: 0, stdout: 'OK: N routes\n', stderr: '' })),
    );
  });

  it('should pass config:check with .env.development copied to .env, its commented routes too', () => {
    const shipped = readFileSync(join(root, '.env.development'), 'utf8');
    const withRoutes = shipped.replace(/^# ((?:SERVICE_ROUTES|ROUTE_[A-Z]+_[A-Z]+)=)/gm, '$1');
    expect(withRoutes).not.toBe(shipped);

    writeFileSync(join(dir, '.env'), shipped);
    const plain = check(dir);
    writeFileSync(join(dir, '.env'), withRoutes);
    const routed = check(dir);

    // As shipped it declares no route: the only warning is the one that says how to add one.
    expect(plain).toMatchObject({ code: 0, stdout: 'OK: 0 routes\n' });
    expect(plain.stderr).toMatch(/^warning: no routes configured;[^\n]*\n$/);
    expect(routed).toEqual({ code: 0, stdout: 'OK: 2 routes\n', stderr: '' });
  });
});
