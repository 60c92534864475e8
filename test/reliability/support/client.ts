import { request, type Agent } from 'node:http';

export interface Outcome {
  status: number;
  /** Body bytes received. */
  bytes: number;
  /** `complete`: full response; `cut`: response started then the connection broke; else the error code. */
  result: string;
  ms: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * An HTTP request that never rejects and never hangs: it settles with what happened, or with
 * `timeout` after `timeoutMs`. This is how the suite proves "every client gets an answer or a
 * closed socket within a bound".
 */
export function attempt(
  base: string,
  path: string,
  opts: {
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    agent?: Agent | false;
    timeoutMs?: number;
  } = {},
): Promise<Outcome> {
  const url = new URL(base);
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    let status = 0;
    let headers: Outcome['headers'] = {};
    const chunks: Buffer[] = [];
    const done = (result: Outcome['result']): void => {
      if (settled) {
        return;
      }
      settled = true;
      clearTimeout(timer);
      const body = Buffer.concat(chunks);
      resolve({
        status,
        bytes: body.length,
        result,
        ms: performance.now() - started,
        headers,
        body: body.toString(),
      });
    };
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: opts.method ?? 'GET',
        headers: opts.headers,
        agent: opts.agent ?? false,
      },
      (res) => {
        status = res.statusCode ?? 0;
        headers = res.headers;
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(res.complete ? 'complete' : 'cut'));
        res.on('aborted', () => done('cut'));
        res.on('error', () => done('cut'));
        res.on('close', () => done(res.complete ? 'complete' : 'cut'));
      },
    );
    const timer = setTimeout(() => {
      done('timeout');
      req.destroy();
    }, opts.timeoutMs ?? 10_000);
    req.on('error', (err: Error & { code?: string }) =>
      done(status !== 0 ? 'cut' : (err.code ?? err.message)),
    );
    req.end(opts.body);
  });
}

/** Runs `n` requests through `concurrency` workers and returns every outcome. */
export async function burst(
  n: number,
  concurrency: number,
  one: (i: number) => Promise<Outcome>,
): Promise<Outcome[]> {
  const out: Outcome[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        out.push(await one(i));
      }
    }),
  );
  return out;
}

export const p99 = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))] ?? NaN;
};

export const tally = (outcomes: Outcome[]): Record<string, number> => {
  const t: Record<string, number> = {};
  for (const o of outcomes) {
    const k = o.result === 'complete' ? String(o.status) : `${o.status}:${o.result}`;
    t[k] = (t[k] ?? 0) + 1;
  }
  return t;
};
