import type { Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import pino from 'pino';
import { type PrimaryProcess, runClusterPrimary } from './cluster-primary';

/** A node:cluster stand-in: workers are plain objects whose fate the test decides. */
class FakeCluster extends EventEmitter {
  readonly workers: { worker: Worker; signals: string[] }[] = [];
  private nextPid = 1000;

  fork(): Worker {
    const signals: string[] = [];
    const worker = {
      process: { pid: this.nextPid++, kill: (signal: string) => signals.push(signal) },
    } as unknown as Worker;
    this.workers.push({ worker, signals });
    return worker;
  }

  listen(index: number, port = 9777): void {
    this.emit('listening', this.workers[index]?.worker, { port });
  }

  die(index: number, code = 1): void {
    this.emit('exit', this.workers[index]?.worker, code, '');
  }
}

class FakeProcess extends EventEmitter implements PrimaryProcess {
  exitCode: number | undefined;
  exit(code: number): void {
    this.exitCode = code;
  }
}

const logger = pino({ level: 'silent' });
// Fake timers: back-off and shutdown bounds are checked exactly, whatever the machine's load.
const sleep = (ms: number) => jest.advanceTimersByTime(ms);

function start(
  cluster: FakeCluster,
  proc: FakeProcess,
  workers = 2,
  maxBootFailures = 3,
  shutdownDelayMs = 0,
) {
  return runClusterPrimary(
    cluster,
    {
      workers,
      port: 9777,
      shutdownTimeoutMs: 50,
      shutdownDelayMs,
      shutdownMarginMs: 50,
      maxBootFailures,
      restartDelayMs: 5,
    },
    logger,
    proc,
  );
}

describe('runClusterPrimary', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('should fork the workers and replace one that dies after it listened', () => {
    const cluster = new FakeCluster();
    const proc = new FakeProcess();
    void start(cluster, proc);
    expect(cluster.workers).toHaveLength(2);
    cluster.listen(0);
    cluster.listen(1);
    cluster.die(0);
    expect(cluster.workers).toHaveLength(2); // not at once: after the back-off
    sleep(40);
    expect(cluster.workers).toHaveLength(3);
    expect(proc.exitCode).toBeUndefined();
  });

  it('should back off more with each recent death', () => {
    const cluster = new FakeCluster();
    const proc = new FakeProcess();
    void runClusterPrimary(
      cluster,
      { workers: 1, shutdownTimeoutMs: 50, restartDelayMs: 30, maxBootFailures: 10 },
      logger,
      proc,
    );
    cluster.listen(0);
    cluster.die(0); // restart in 30 ms
    sleep(60);
    expect(cluster.workers).toHaveLength(2);
    cluster.listen(1);
    cluster.die(1); // restart in 60 ms
    sleep(35);
    expect(cluster.workers).toHaveLength(2);
    sleep(60);
    expect(cluster.workers).toHaveLength(3);
  });

  it('should give up with exit 1 when workers keep dying before they listen', async () => {
    const cluster = new FakeCluster();
    const proc = new FakeProcess();
    const done = start(cluster, proc, 2, 3);
    cluster.listen(1);
    cluster.die(0); // boot failure 1
    sleep(30);
    cluster.die(2); // boot failure 2
    sleep(30);
    cluster.die(3); // boot failure 3: give up, drain the survivor (no SHUTDOWN_DELAY)
    expect(cluster.workers[1]?.signals).toEqual(['SIGINT']);
    cluster.die(1, 0);
    await expect(done).resolves.toBe(1);
    expect(proc.exitCode).toBe(1);
  });

  it('should count a worker that listened only on another port as a boot failure', () => {
    const cluster = new FakeCluster();
    const proc = new FakeProcess();
    void start(cluster, proc, 1, 2);
    cluster.listen(0, 40000); // e.g. the built-in demo upstream
    cluster.die(0);
    sleep(30);
    cluster.listen(1, 40000);
    cluster.die(1);
    expect(proc.exitCode).toBe(1);
  });

  it('should reset the boot-failure count once a worker listens', () => {
    const cluster = new FakeCluster();
    const proc = new FakeProcess();
    void start(cluster, proc, 1, 2);
    cluster.die(0);
    sleep(30);
    cluster.listen(1);
    cluster.die(1);
    sleep(60);
    cluster.die(2);
    sleep(60);
    expect(proc.exitCode).toBeUndefined();
    expect(cluster.workers.length).toBeGreaterThanOrEqual(4);
  });

  it('should drain every worker on SIGTERM, not restart them, and exit 0', async () => {
    const cluster = new FakeCluster();
    const proc = new FakeProcess();
    const done = start(cluster, proc, 3);
    [0, 1, 2].forEach((i) => cluster.listen(i));
    proc.emit('SIGTERM');
    expect(cluster.workers.map((w) => w.signals)).toEqual([['SIGTERM'], ['SIGTERM'], ['SIGTERM']]);
    cluster.die(0, 0);
    cluster.die(1, 0);
    sleep(20);
    expect(proc.exitCode).toBeUndefined();
    expect(cluster.workers).toHaveLength(3);
    cluster.die(2, 0);
    await expect(done).resolves.toBe(0);
  });

  it('should kill workers still running after SHUTDOWN_TIMEOUT plus the margin and exit 1', async () => {
    const cluster = new FakeCluster();
    const proc = new FakeProcess();
    const done = start(cluster, proc, 1);
    cluster.listen(0);
    proc.emit('SIGINT');
    sleep(150);
    expect(cluster.workers[0]?.signals).toEqual(['SIGINT', 'SIGKILL']);
    cluster.die(0, 0);
    await expect(done).resolves.toBe(1);
  });

  it('should pass SIGTERM on and wait SHUTDOWN_DELAY on top of the drain bound before killing', async () => {
    const cluster = new FakeCluster();
    const proc = new FakeProcess();
    const done = start(cluster, proc, 1, 3, 1_000);
    cluster.listen(0);
    proc.emit('SIGTERM');
    expect(cluster.workers[0]?.signals).toEqual(['SIGTERM']);
    sleep(1_050); // delay + SHUTDOWN_TIMEOUT, within the margin: still draining
    expect(cluster.workers[0]?.signals).toEqual(['SIGTERM']);
    sleep(100);
    expect(cluster.workers[0]?.signals).toEqual(['SIGTERM', 'SIGKILL']);
    cluster.die(0, 0);
    await expect(done).resolves.toBe(1);
  });

  it('should pass SIGINT on, whose drain bound has no delay in it', () => {
    const cluster = new FakeCluster();
    const proc = new FakeProcess();
    void start(cluster, proc, 1, 3, 1_000);
    cluster.listen(0);
    proc.emit('SIGINT');
    sleep(150);
    expect(cluster.workers[0]?.signals).toEqual(['SIGINT', 'SIGKILL']);
  });
});
