import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { callInWorker, canCallInWorker } from './worker-call';

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
       exports.later = async (ms) => { await new Promise((r) => setTimeout(r, ms)); return 'done'; };
       exports.fails = () => { throw new Error('bad input'); };
       exports.exits = () => process.exit(3);`,
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('should call the export on another thread and return its plain result', async () => {
    expect(await callInWorker(file, 'sum', [2, 3])).toEqual({ sum: 5, isMainThread: false });
    expect(isMainThread).toBe(true);
    expect(await callInWorker(file, 'later', [20])).toBe('done');
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
