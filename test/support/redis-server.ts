import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throw-away redis-server on loopback: no persistence, its own data directory. */
export interface RedisServerHandle {
  port: number;
  pid: number;
  dir: string;
  url: string;
  process: ChildProcess;
}

/** A free TCP port on loopback (bound, read, released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') {
    throw new Error('could not pick a free port');
  }
  return address.port;
}

/** Sends PING over a raw socket, so the harness needs neither redis-cli nor a client library. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    // -NOAUTH: up, but started with --requirepass.
    socket.on('data', (data) => done(/^(\+PONG|-NOAUTH)/.test(data.toString())));
  });
}

/**
 * Starts `redis-server` and waits until it answers PING.
 * @param extraArgs e.g. `['--enable-debug-command', 'yes']` for DEBUG SLEEP
 */
export async function startRedisServer(
  port?: number,
  extraArgs: string[] = [],
): Promise<RedisServerHandle> {
  const chosen = port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'gateway-redis-'));
  const child = spawn(
    'redis-server',
    [
      '--bind',
      '127.0.0.1',
      '--port',
      String(chosen),
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      ...extraArgs,
    ],
    { stdio: 'ignore' },
  );
  let spawnError: Error | undefined;
  child.on('error', (error) => {
    spawnError = error;
  });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (spawnError !== undefined) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(
        `cannot start redis-server (${spawnError.message}); install it, e.g. apt-get install redis-server`,
      );
    }
    if (await ping(chosen)) {
      return {
        port: chosen,
        pid: child.pid ?? -1,
        dir,
        url: `redis://127.0.0.1:${chosen}`,
        process: child,
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`redis-server on port ${chosen} did not answer PING within 10 s`);
}

/** Kills the server (SIGKILL: an outage, not a shutdown) and waits for it to be gone. */
export async function killRedisServer(handle: RedisServerHandle, removeDir = true): Promise<void> {
  if (handle.process.exitCode === null && handle.process.signalCode === null) {
    const exited = new Promise((resolve) => handle.process.once('exit', resolve));
    handle.process.kill('SIGKILL');
    await exited;
  }
  if (removeDir) {
    rmSync(handle.dir, { recursive: true, force: true });
  }
}
