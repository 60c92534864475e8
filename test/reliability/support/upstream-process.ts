import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const SCRIPT = join(__dirname, 'upstream-server.js');

/** An upstream running as its own OS process (`upstream-server.js`), driven over IPC. */
export interface UpstreamProcess {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  /** Requests it received so far, `METHOD path`, in order. */
  hits(): Promise<string[]>;
  /** Keeps reading requests but stops answering them. */
  hang(): Promise<void>;
  /** Answers the held requests and serves normally again. */
  unhang(): Promise<void>;
  /** Closes its listener: new connections are refused. */
  refuse(): Promise<void>;
  /** SIGKILL, as a crash. Resolves once the process is gone. */
  kill(): Promise<void>;
}

function nextEvent<T extends { event: string }>(
  child: ChildProcess,
  event: string,
  timeoutMs = 10_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`upstream process: no ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (msg: T): void => {
      if (msg.event === event) {
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(msg);
      }
    };
    child.on('message', onMessage);
  });
}

/**
 * Starts an upstream process listening on 127.0.0.1 (`port` 0 picks a free one; a restart
 * passes the old port). `script: 'flaky'` makes it answer the 20 % 5xx script.
 */
export async function startUpstreamProcess(
  name: string,
  opts: { port?: number; script?: 'flaky' } = {},
): Promise<UpstreamProcess> {
  const child = fork(SCRIPT, [], {
    env: {
      PATH: process.env.PATH ?? '',
      UPSTREAM_NAME: name,
      UPSTREAM_PORT: String(opts.port ?? 0),
      UPSTREAM_SCRIPT: opts.script ?? '',
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const { port } = await nextEvent<{ event: string; port: number }>(child, 'listening');
  const command = async (cmd: string, event: string): Promise<void> => {
    const reply = nextEvent(child, event);
    child.send({ cmd });
    await reply;
  };
  return {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    child,
    async hits() {
      const reply = nextEvent<{ event: string; hits: string[] }>(child, 'hits');
      child.send({ cmd: 'hits' });
      return (await reply).hits;
    },
    hang: () => command('hang', 'hanging'),
    unhang: () => command('unhang', 'unhung'),
    refuse: () => command('refuse', 'refusing'),
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
      }
      await exited;
    },
  };
}
