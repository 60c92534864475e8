import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { callInWorker, callMaybeInWorker, canCallInWorker } from './worker-call';

describe('callInWorker', () => {
  let dir: string;
  let file: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'worker-call-'));
    file = join(dir, 'module.js');
    writeFileSync(
      file,
      `const { isMainThread } = require('node:worker_threads');
       exports.sum = (a, b) => ({ sum: a + b, isMainThread });
       exports.nice = () => require('node:os').getPriority(0);
       exports.later = async (ms) => { await new Promise((r) => setTimeout(r, ms)); return 'done'; };
       exports.fails = () => { throw new Error('bad input'); };
       exports.exits = () => process.exit(3);
       exports.big = (n) => ({ head: 'h', items: Array.from({ length: n }, (_, i) => ({ i })), small: [1, 2] });`,
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('should call the export on another thread and return its plain result', async () => {
    expect(await callInWorker(file, 'sum', [2, 3])).toEqual({ sum: 5, isMainThread: false });
    expect(isMainThread).toBe(true);
    expect(await callInWorker(file, 'later', [20])).toBe('done');
  });

  it('should take a large array of the result in parts, each its own event-loop turn', async () => {
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    const pending = callInWorker<{ head: string; items: { i: number }[]; small: number[] }>(
      file,
      'big',
      [20_001],
    );
    // Each part is acknowledged from a setImmediate: note how far the loop had turned by then.
    const turnsAtParts: number[] = [];
    const original = setImmediate;
    const spy = jest.spyOn(global, 'setImmediate').mockImplementation((fn: () => void) =>
      original(() => {
        turnsAtParts.push(turns);
        fn();
      }),
    );
    const value = await pending;
    spy.mockRestore();
    clearInterval(ticker);
    // 41 parts of 500, and the loop turned between them.
    expect(turnsAtParts.length).toBeGreaterThanOrEqual(41);
    expect(new Set(turnsAtParts).size).toBeGreaterThan(1);
    expect(value.head).toBe('h');
    expect(value.small).toEqual([1, 2]);
    expect(value.items).toHaveLength(20_001);
    expect(value.items.every((item, i) => item.i === i)).toBe(true);
    expect(turns).toBeGreaterThan(0);
  });

  it('should let the caller keep what it wants of each part as it comes in', async () => {
    const keys = new Set<string>();
    const value = await callInWorker<{ items: number[]; small: number[] }>(file, 'big', [1_200], {
      onPart: (key, items) => {
        keys.add(key);
        return (items as { i: number }[]).map((item) => item.i * 2);
      },
    });
    expect([...keys]).toEqual(['items']);
    expect(value.items).toEqual(Array.from({ length: 1_200 }, (_, i) => i * 2));
    expect(value.small).toEqual([1, 2]);
  });

  it('should call here when the job is small or the module is not compiled, seeing parts too', async () => {
    const big = (n: number) => ({ items: Array.from({ length: n }, (_, i) => i), n });
    const seen: string[] = [];
    const onPart = (key: string, items: unknown[]) => {
      seen.push(key);
      return items.map((i) => -(i as number));
    };
    // A TypeScript source (the test runner's) never goes to a worker, large or not.
    expect(await callMaybeInWorker({ large: true, file: __filename, onPart }, big, 3)).toEqual({
      items: [-0, -1, -2],
      n: 3,
    });
    expect(await callMaybeInWorker({ large: false, file }, big, 2)).toEqual({
      items: [0, 1],
      n: 2,
    });
    expect(seen).toEqual(['items']);
  });

  it('should lower only a background worker thread’s priority', async () => {
    expect(await callInWorker(file, 'nice', [])).toBe(getPriority(0));
    expect(await callInWorker(file, 'nice', [], { background: true })).toBe(
      Math.max(getPriority(0), 10),
    );
    expect(getPriority(0)).toBeLessThan(19);
  });

  it('should reject with the error thrown, or when the worker dies without answering', async () => {
    await expect(callInWorker(file, 'fails', [])).rejects.toThrow(/fails in a worker.*bad input/s);
    await expect(callInWorker(file, 'exits', [])).rejects.toThrow(/exited with code 3/);
    await expect(callInWorker(join(dir, 'missing.js'), 'x', [])).rejects.toThrow(/Cannot find/);
  });

  it('should only offer compiled JavaScript to a worker', () => {
    expect(canCallInWorker('/app/dist/admin/heavy-work.js')).toBe(true);
    expect(canCallInWorker('/app/src/admin/heavy-work.ts')).toBe(false);
  });
});
