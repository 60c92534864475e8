import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  createReadStream,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { send, sleep } from './fixtures/http';
import { freePort, MAIN } from './fixtures/process';
import { startUpstream, type TestUpstream } from './fixtures/upstream';

/**
 * The built gateway (`dist/main.js`) as a child process whose stdout is what a deployment gives
 * it: a pipe a container runtime reads (slowly, or not at all for a while), a FIFO, a file. Its
 * lines must arrive whole, in order, and flushed at shutdown and after a fatal error, and a
 * stalled reader must never stall the gateway.
 */

interface Child {
  proc: ChildProcess;
  url: string;
  exited: Promise<number | string>;
}

type Stdout = 'pipe' | { fd: number } | { fifo: string };

/** Children still running: a failed test must not leave its gateway behind. */
const running = new Set<ChildProcess>();

async function startChild(
  env: Record<string, string>,
  stdout: Stdout,
  extraNodeArgs: string[] = [],
): Promise<Child> {
  const port = await freePort();
  const childEnv = {
    PATH: process.env.PATH ?? '',
    GATEWAY_PORT: `127.0.0.1:${port}`,
    NO_DASHBOARD: '1',
    DEMO_UPSTREAM: 'false',
    LOG_LEVEL: 'info',
    // The load below comes from one client IP: limits that never bite.
    MAX_REQUESTS_PER_SECOND: '1000000',
    MAX_BURST_SIZE: '1000000',
    DDOS_THRESHOLD: '100000000',
    ...env,
  };
  const node = [process.execPath, ...extraNodeArgs, MAIN];
  const proc =
    typeof stdout === 'object' && 'fifo' in stdout
      ? // The shell opens the FIFO as stdout with default (blocking) flags, as a runtime does,
        // then execs node in its place.
        spawn('/bin/sh', ['-c', 'exec "$@" > "$0"', stdout.fifo, ...node], {
          env: childEnv,
          stdio: ['ignore', 'ignore', 'pipe'],
        })
      : spawn(node[0], node.slice(1), {
          env: childEnv,
          stdio: ['ignore', stdout === 'pipe' ? 'pipe' : stdout.fd, 'pipe'],
        });
  let stderr = '';
  proc.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | string>((resolve) =>
    proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  running.add(proc);
  void exited.then(() => running.delete(proc));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) {
      throw new Error(`gateway exited early: ${stderr}`);
    }
    try {
      if ((await send(url, '/health')).status === 200) {
        break;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`gateway did not become ready: ${stderr}`);
    }
    await sleep(50);
  }
  return { proc, url, exited };
}

/** Stops the child (SIGKILL after 20 s) and waits for it. */
async function stop(child: Child, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
  child.proc.kill(signal);
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), 20_000);
  const code = await child.exited;
  clearTimeout(timer);
  return code;
}

/**
 * `count` GETs of `/seq?n=<i>&pad=<padBytes>` over `concurrency` keep-alive connections, each
 * connection's requests in order; resolves with the statuses.
 */
async function load(
  url: string,
  count: number,
  padBytes: number,
  concurrency = 8,
): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const pad = 'p'.repeat(padBytes);
  const statuses: number[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const n = next++;
      statuses[n] = await new Promise<number>((resolve, reject) => {
        const req = request(`${url}/seq?n=${n}&pad=${pad}`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end();
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return statuses;
}

/** Reads a stream slowly: `pauseMs` after every chunk, as a lagging log collector does. */
function collectSlowly(
  stream: Readable,
  pauseMs: number,
): { text(): string; ended: Promise<void>; setPause(ms: number): void } {
  let text = '';
  let pause = pauseMs;
  stream.on('data', (c: Buffer) => {
    text += c.toString('utf8');
    if (pause > 0) {
      stream.pause();
      setTimeout(() => stream.resume(), pause);
    }
  });
  const ended = new Promise<void>((resolve) => stream.once('end', resolve));
  return { text: () => text, ended, setPause: (ms) => (pause = ms) };
}

/** Every line parsed (a torn line fails the test here). */
function parseLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const accessLines = (lines: Record<string, unknown>[]) =>
  lines.filter((l) => l.msg === 'request completed' && l.path === '/seq');

/** The `n` of each access line, in the order they were written. */
const seqOf = (lines: Record<string, unknown>[]): number[] =>
  accessLines(lines).map((l) => Number(/n=(\d+)/.exec(String(l.query))?.[1]));

async function droppedMetric(url: string): Promise<number> {
  const text = (await send(url, '/metrics')).text;
  const m = /^log_lines_dropped_total\{destination="stdout"\} (\d+)$/m.exec(text);
  if (!m) {
    throw new Error('log_lines_dropped_total{destination="stdout"} missing from /metrics');
  }
  return Number(m[1]);
}

describe('logging to stdout (e2e, built gateway)', () => {
  let upstream: TestUpstream;
  let dir: string;
  let routes: string;

  beforeAll(async () => {
    upstream = await startUpstream((_req, res) => res.end('ok'));
    routes = JSON.stringify([{ name: 'app', prefix: '/', target_url: upstream.url }]);
  });
  afterAll(() => upstream.close());
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gw-logging-'));
  });
  afterEach(() => {
    for (const proc of running) {
      // A cluster primary takes its workers with it when it dies.
      proc.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('should keep serving while nobody reads its stdout, drop and count lines past its bound, and say so once the reader is back', async () => {
    const gw = await startChild({ SERVICE_ROUTES: routes }, 'pipe');
    try {
      // Nobody reads: ~8 KiB lines fill the socket buffer and then the 16 MiB log buffer.
      gw.proc.stdout!.pause();
      const count = 2600;
      const statuses = await load(gw.url, count, 8000);
      expect(statuses.filter((s) => s === 200)).toHaveLength(count);
      expect((await send(gw.url, '/health')).status).toBe(200);
      const dropped = await droppedMetric(gw.url);
      expect(dropped).toBeGreaterThan(0);

      // The reader comes back: the gateway reports the gap once it has caught up.
      const out = collectSlowly(gw.proc.stdout!, 0);
      gw.proc.stdout!.resume();
      const deadline = Date.now() + 30_000;
      while (!out.text().includes('stdout could not keep up') && Date.now() < deadline) {
        await sleep(50);
      }
      expect(await stop(gw)).toBe(0);
      await out.ended;
      const lines = parseLines(out.text());
      const notice = lines.find((l) => String(l.msg).startsWith('stdout could not keep up'));
      expect(notice).toMatchObject({ level: 'warn', droppedLines: dropped });
      const seq = seqOf(lines);
      expect(seq.length + dropped).toBe(count);
      // Whatever was kept is in the order it was written: per connection, requests are serial.
      expect(seq[0]).toBe(0);
      expect(lines.at(-1)?.msg).toBe('shutdown complete');
    } finally {
      gw.proc.kill('SIGKILL');
    }
  }, 120_000);

  it('should still exit on SIGTERM, within a bounded wait, when nobody ever reads its stdout', async () => {
    const gw = await startChild({ SERVICE_ROUTES: routes }, 'pipe');
    let stderr = '';
    gw.proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    try {
      gw.proc.stdout!.pause();
      const statuses = await load(gw.url, 300, 8000);
      expect(statuses.every((s) => s === 200)).toBe(true);
      const started = Date.now();
      // pino's own stdout kept every line in memory and, at exit, waited on the pipe for as long
      // as the reader took (forever here); the drain gives up after 5 s, the exit flush 0.5 s.
      expect(await stop(gw)).toBe(0);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(stderr).toMatch(/gateway: \d+ log lines could not be written at exit/);
    } finally {
      gw.proc.kill('SIGKILL');
    }
  }, 60_000);

  it('should write every line, in order with its other lines, to a slow FIFO reader before exiting on SIGTERM', async () => {
    const fifo = join(dir, 'stdout');
    execFileSync('mkfifo', [fifo]);
    // ~160 KB/s while the load runs: the gateway ends up with about a megabyte buffered.
    const out = collectSlowly(createReadStream(fifo, { highWaterMark: 16 * 1024 }), 100);
    const gw = await startChild({ SERVICE_ROUTES: routes }, { fifo });
    const count = 1500;
    // Sequential requests: their lines must come out in this order.
    const statuses = await load(gw.url, count, 1000, 1);
    expect(statuses.every((s) => s === 200)).toBe(true);
    // Stopped at once. The reader speeds up (~800 KB/s) but still needs more than a second for
    // the backlog: only a shutdown that waits for the writer gets it all out.
    out.setPause(20);
    expect(await stop(gw)).toBe(0);
    await out.ended;
    const lines = parseLines(out.text());
    expect(seqOf(lines)).toEqual(Array.from({ length: count }, (_, i) => i));
    const msgs = lines.map((l) => l.msg);
    const firstAccess = msgs.indexOf('request completed');
    const lastAccess = msgs.lastIndexOf('request completed');
    expect(msgs.indexOf('gateway listening')).toBeLessThan(firstAccess);
    expect(msgs.indexOf('shutting down: no new connections, waiting for in-flight requests')).toBe(
      lastAccess + 1,
    );
    expect(msgs.at(-1)).toBe('shutdown complete');
  }, 120_000);

  it('should write every line to a file as stdout', async () => {
    const path = join(dir, 'stdout.log');
    const fd = openSync(path, 'a');
    const gw = await startChild({ SERVICE_ROUTES: routes }, { fd });
    closeSync(fd);
    const statuses = await load(gw.url, 500, 100, 4);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(await stop(gw)).toBe(0);
    const lines = parseLines(readFileSync(path, 'utf8'));
    expect(seqOf(lines).sort((a, b) => a - b)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(lines.at(-1)?.msg).toBe('shutdown complete');
  }, 60_000);

  it('should write what it buffered, and the fatal error, when an uncaught exception ends it', async () => {
    // Test-only preload: an uncaught exception on SIGUSR2, as a bug in a callback would throw.
    const crash = join(dir, 'crash.js');
    writeFileSync(
      crash,
      "process.on('SIGUSR2', () => setImmediate(() => { throw new Error('test crash'); }));\n",
    );
    const gw = await startChild({ SERVICE_ROUTES: routes }, 'pipe', ['--require', crash]);
    const out = collectSlowly(gw.proc.stdout!, 0);
    const statuses = await load(gw.url, 200, 100, 1);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(await stop(gw, 'SIGUSR2')).toBe(1);
    await out.ended;
    const lines = parseLines(out.text());
    expect(seqOf(lines)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    // Logged into the buffer as the process was ending: only the exit flush can have written it.
    expect(lines.at(-1)).toMatchObject({
      level: 'fatal',
      msg: 'uncaught exception: exiting',
      origin: 'uncaughtException',
      err: { message: 'test crash' },
    });
  }, 60_000);

  it('should keep lines whole when two workers write to one slowly read FIFO', async () => {
    const fifo = join(dir, 'stdout');
    execFileSync('mkfifo', [fifo]);
    const out = collectSlowly(createReadStream(fifo, { highWaterMark: 8 * 1024 }), 2);
    const gw = await startChild({ SERVICE_ROUTES: routes, GATEWAY_WORKERS: '2' }, { fifo });
    // /health answers as soon as one worker listens; the load must reach both.
    const deadline = Date.now() + 30_000;
    while (out.text().split('primary: worker listening').length < 3 && Date.now() < deadline) {
      await sleep(50);
    }
    const count = 3000;
    // ~3 KB lines from both workers at once, over connections spread between them.
    const statuses = await load(gw.url, count, 3000, 16);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(await stop(gw)).toBe(0);
    await out.ended;
    const lines = parseLines(out.text());
    const access = accessLines(lines);
    expect(access).toHaveLength(count);
    expect(new Set(access.map((l) => l.pid)).size).toBe(2);
    expect(seqOf(lines).sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, i) => i));
  }, 120_000);
});
