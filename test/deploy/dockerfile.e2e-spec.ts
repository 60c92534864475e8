import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lintDockerfile, parseDockerfile } from './dockerfile-lint';

const ROOT = join(__dirname, '..', '..');
const dockerfile = readFileSync(join(ROOT, 'docker', 'Dockerfile'), 'utf8');

const GOOD = `FROM node:22-bookworm-slim AS build
WORKDIR /app
RUN npm ci
FROM node:22-bookworm-slim
WORKDIR /app
COPY --chown=root:root --from=build /app/dist ./dist
USER node
EXPOSE 9777
HEALTHCHECK CMD ["node", "-e", "0"]
CMD ["node", "dist/main.js"]
`;

/** Rules that fire on `GOOD` with one line changed. */
function rulesAfter(from: string, to: string): string[] {
  expect(GOOD).toContain(from);
  return lintDockerfile(GOOD.replace(from, to)).map((f) => f.rule);
}

describe('docker/Dockerfile', () => {
  it('should pass every lint rule', () => {
    expect(lintDockerfile(dockerfile)).toEqual([]);
  });

  it('should build from the lockfile, ship production dependencies only, on a Node LTS image', () => {
    const instructions = parseDockerfile(dockerfile);
    const froms = instructions.filter((i) => i.keyword === 'FROM').map((i) => i.args);
    for (const from of froms) {
      // Node LTS lines the app supports (engines >= 20.19), pinned by major.
      expect(from).toMatch(/^node:(20|22|24)-[a-z]+-slim AS [a-z-]+$/);
    }
    const runs = instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(runs.some((r) => /npm ci\b(?!.*--omit=dev)/.test(r))).toBe(true);
    expect(runs.some((r) => /npm ci .*--omit=dev/.test(r))).toBe(true);
    // The runtime stage copies node_modules from the production-deps stage, not the build one.
    const copies = instructions.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    expect(copies).toContainEqual(expect.stringMatching(/--from=prod-deps \/app\/node_modules/));
    expect(copies).not.toContainEqual(expect.stringMatching(/--from=build \/app\/node_modules/));
  });

  it('should probe /health/live on the exposed port and run node directly', () => {
    const instructions = parseDockerfile(dockerfile);
    const find = (keyword: string) => instructions.find((i) => i.keyword === keyword)?.args ?? '';
    expect(find('EXPOSE')).toBe('9777');
    expect(find('HEALTHCHECK')).toContain('http://127.0.0.1:9777/health/live');
    expect(JSON.parse(find('CMD'))).toEqual(['node', 'dist/main.js']);
    expect(find('USER')).toBe('node');
  });

  it('should flag each rule on a Dockerfile that breaks it', () => {
    expect(lintDockerfile(GOOD)).toEqual([]);
    expect(rulesAfter('FROM node:22-bookworm-slim\n', 'FROM node\n')).toContain('DL3006');
    expect(rulesAfter('FROM node:22-bookworm-slim\n', 'FROM node:latest\n')).toContain('DL3007');
    expect(rulesAfter('USER node\n', '')).toContain('DL3002');
    expect(rulesAfter('USER node\n', 'USER root\n')).toContain('DL3002');
    expect(rulesAfter('CMD ["node", "dist/main.js"]', 'CMD node dist/main.js')).toContain('DL3025');
    // USER after CMD: the CMD would still run as root.
    expect(
      lintDockerfile(GOOD.replace('USER node\n', '') + 'USER node\n').map((f) => f.rule),
    ).toContain('user-before-cmd');
    expect(rulesAfter('HEALTHCHECK CMD ["node", "-e", "0"]\n', '')).toContain('healthcheck');
    expect(rulesAfter('RUN npm ci', 'RUN npm install')).toContain('npm-ci');
    expect(rulesAfter('WORKDIR /app\nCOPY', 'WORKDIR /app\nENV JWT_SECRET=x\nCOPY')).toContain(
      'secrets',
    );
    expect(rulesAfter('--chown=root:root ', '')).toContain('copy-chown');
    expect(
      rulesAfter(
        'RUN npm ci',
        'RUN apt-get update && apt-get install -y --no-install-recommends curl',
      ),
    ).toContain('DL3009');
    expect(
      lintDockerfile(
        'FROM node:22-slim\nUSER node\nHEALTHCHECK CMD ["true"]\nEXPOSE 1\nCMD ["node"]\n',
      ).map((f) => f.rule),
    ).toEqual(['multi-stage']);
  });
});
