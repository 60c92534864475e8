import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DASHBOARD_TITLE } from '../src/observability/dashboard/dashboard-renderer';
import { send, sleep } from './fixtures/http';
import { freePort, MAIN } from './fixtures/process';
import { startUpstream, type TestUpstream } from './fixtures/upstream';

/**
 * The built gateway (`dist/main.js`, as `npm start` runs it) in a detached tmux session, so its
 * stdout and stdin are a real terminal. Each test uses its own tmux server socket and kills it.
 */
class TmuxGateway {
  readonly socket = `gw-dash-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  readonly dir = mkdtempSync(join(tmpdir(), 'gw-dash-'));
  readonly url: string;

  constructor(
    readonly port: number,
    env: Record<string, string>,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    const vars = {
      PATH: process.env.PATH ?? '',
      TERM: 'xterm-256color',
      GATEWAY_PORT: `127.0.0.1:${port}`,
      DEMO_UPSTREAM: 'false',
      ...env,
    };
    const exports = Object.entries(vars)
      .map(([k, v]) => `export ${k}='${v.replace(/'/g, `'\\''`)}'`)
      .join('\n');
    // A clean environment, then the gateway; its exit status lands in a file. The shell traps
    // SIGINT (a handler, which the gateway does not inherit) so a terminal Ctrl-C, sent to the
    // whole foreground group, cannot kill it before it records the status.
    writeFileSync(
      join(this.dir, 'run.sh'),
      `#!/bin/sh\ntrap 'true' INT\nfor v in $(env | cut -d= -f1); do unset "$v" 2>/dev/null; done\n${exports}\n` +
        `cd '${this.dir}'\n'${process.execPath}' '${MAIN}'\necho "exit=$?" > '${this.dir}/exit'\nsleep 60\n`,
    );
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], {
      encoding: 'utf8',
      timeout: 10000,
    });
  }

  start(): void {
    this.tmux('new-session', '-d', '-s', 'gw', '-x', '140', '-y', '45', `sh '${this.dir}/run.sh'`);
  }

  /** What the terminal shows now (the alternate screen while the dashboard is up). */
  screen(): string {
    return this.tmux('capture-pane', '-p', '-t', 'gw');
  }

  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', 'gw', ...keys);
  }

  exitStatus(): string | undefined {
    const file = join(this.dir, 'exit');
    return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
  }

  async waitForScreen(
    check: (s: string) => boolean,
    what: string,
    timeoutMs = 30000,
  ): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      last = this.screen();
      if (check(last)) {
        return last;
      }
      await sleep(200);
    }
    throw new Error(`timed out waiting for ${what}; screen:\n${last}`);
  }

  async waitForExit(timeoutMs = 30000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const status = this.exitStatus();
      if (status) {
        return status;
      }
      await sleep(200);
    }
    throw new Error(`gateway did not exit; screen:\n${this.screen()}`);
  }

  close(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // already gone
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const ROUTE_ROW = /^app\s+\d[\d,]*\s+\d+\s+[\d.]+%/m;

describe('terminal dashboard of the built gateway (e2e, tmux)', () => {
  let upstream: TestUpstream;
  let routes: string;
  const sessions: TmuxGateway[] = [];

  async function launch(env: Record<string, string> = {}): Promise<TmuxGateway> {
    const gw = new TmuxGateway(await freePort(), { SERVICE_ROUTES: routes, ...env });
    sessions.push(gw);
    gw.start();
    return gw;
  }

  beforeAll(async () => {
    // A missing tmux or build is a failure, not a skip: .ci/run installs tmux, npm test builds.
    expect(existsSync(MAIN)).toBe(true);
    expect(() => execFileSync('tmux', ['-V'])).not.toThrow();
    upstream = await startUpstream();
    routes = JSON.stringify([{ name: 'app', prefix: '/app', target_url: upstream.url }]);
  });
  afterEach(() => {
    for (const s of sessions.splice(0)) {
      s.close();
    }
  });
  afterAll(() => upstream?.close());

  it('should render the dashboard in place and quit it on q while the gateway keeps serving', async () => {
    const gw = await launch();
    const first = await gw.waitForScreen(
      (s) => s.includes(DASHBOARD_TITLE) && ROUTE_ROW.test(s),
      'the dashboard',
    );
    expect(first).toContain(upstream.url.replace(/\/$/, ''));
    expect(first).toMatch(/● up\s+closed/);
    expect(first).toContain('q  quit dashboard');

    for (let i = 0; i < 12; i++) {
      expect((await send(gw.url, '/app/x')).status).toBe(200);
    }
    const busy = await gw.waitForScreen((s) => /total 1[2-9]\b|total [2-9]\d\b/.test(s), 'traffic');
    expect(busy).toMatch(/^app\s+1[2-9]\s/m);
    // Access lines are held back: nothing scrolls through the frame.
    expect(busy).not.toContain('request completed');
    expect(busy.split('\n').filter((l) => l.includes(DASHBOARD_TITLE))).toHaveLength(1);

    gw.keys('q');
    const after = await gw.waitForScreen(
      (s) => !s.includes(DASHBOARD_TITLE),
      'the dashboard to close',
    );
    expect(after).toContain('gateway listening');
    expect(after).toContain('terminal dashboard closed');
    expect((await send(gw.url, '/app/after')).status).toBe(200);
    expect((await send(gw.url, '/health')).status).toBe(200);
    // Logs flow normally again.
    await gw.waitForScreen((s) => s.includes('request completed'), 'access lines after q');
    expect(gw.exitStatus()).toBeUndefined();

    // Stdin is back in cooked mode: Ctrl-C is the terminal's SIGINT, the gateway stops cleanly.
    gw.keys('C-c');
    expect(await gw.waitForExit()).toBe('exit=0');
  }, 120000);

  it("should show an upstream's scheme, host, port and path, never its query", async () => {
    const gw = await launch({
      SERVICE_ROUTES: JSON.stringify([
        { name: 'app', prefix: '/app', target_url: `${upstream.url}/v1?key=DASH-S3CRET` },
      ]),
    });
    const screen = await gw.waitForScreen(
      (s) => s.includes(DASHBOARD_TITLE) && ROUTE_ROW.test(s),
      'the dashboard',
    );
    expect(screen).toContain(`${upstream.url}/v1`);
    expect(screen).not.toContain('DASH-S3CRET');
    expect(screen).not.toContain('key=');
  }, 120000);

  it('should stop the gateway cleanly on Ctrl-C while the dashboard is shown', async () => {
    const gw = await launch();
    await gw.waitForScreen((s) => s.includes(DASHBOARD_TITLE), 'the dashboard');
    gw.keys('C-c');
    expect(await gw.waitForExit()).toBe('exit=0');
    const screen = gw.screen();
    // The terminal was restored before the shutdown lines were written.
    expect(screen).not.toContain(DASHBOARD_TITLE);
    expect(screen).toContain('shutdown complete');
  }, 120000);

  it('should show no dashboard with NO_DASHBOARD set, only logs', async () => {
    const gw = await launch({ NO_DASHBOARD: '1' });
    await gw.waitForScreen((s) => s.includes('gateway listening'), 'the listening line');
    expect((await send(gw.url, '/app/x')).status).toBe(200);
    const screen = await gw.waitForScreen((s) => s.includes('request completed'), 'an access line');
    expect(screen).not.toContain(DASHBOARD_TITLE);
  }, 120000);

  it('should write nothing but JSON lines when stdout is not a terminal', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [MAIN], {
      cwd: tmpdir(),
      env: {
        PATH: process.env.PATH ?? '',
        GATEWAY_PORT: `127.0.0.1:${port}`,
        DEMO_UPSTREAM: 'false',
        SERVICE_ROUTES: routes,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const deadline = Date.now() + 20000;
      while (!out.includes('gateway listening') && Date.now() < deadline) {
        await sleep(100);
      }
      expect((await send(`http://127.0.0.1:${port}`, '/app/x')).status).toBe(200);
      await sleep(1500);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(out).not.toContain('\x1b');
    expect(out).not.toContain(DASHBOARD_TITLE);
    const lines = out.split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) {
      expect(() => JSON.parse(line) as unknown).not.toThrow();
    }
    expect(out).toContain('request completed');
  }, 60000);
});
