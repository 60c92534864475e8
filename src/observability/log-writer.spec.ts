import { execFileSync } from 'node:child_process';
import {
  closeSync,
  constants,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atomicPiece, LogWriter, unwritten } from './log-writer';

describe('LogWriter on a file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'access-log-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('should batch lines and write them all, in order, by close', async () => {
    const path = join(dir, 'nested', 'access.log');
    const file = LogWriter.toFile(path, { flushBytes: 1024, flushMs: 10_000 });
    for (let i = 0; i < 500; i++) {
      file.write(`line ${i}\n`);
    }
    await file.close();
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(500);
    expect(lines[0]).toBe('line 0');
    expect(lines[499]).toBe('line 499');
  });

  it('should flush a small batch after its timer', async () => {
    const path = join(dir, 'a.log');
    const file = LogWriter.toFile(path, { flushBytes: 64 * 1024, flushMs: 20 });
    file.write('one\n');
    expect(readFileSync(path, 'utf8')).toBe('');
    await new Promise((r) => setTimeout(r, 100));
    expect(readFileSync(path, 'utf8')).toBe('one\n');
    await file.close();
  });

  it('should keep every byte and the order across chunks, multi-byte text and oversized lines', async () => {
    const path = join(dir, 'c.log');
    // A small flush threshold: many writes, most started while the previous one is in flight.
    const file = LogWriter.toFile(path, { flushBytes: 4096, flushMs: 10_000 });
    const expected: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const line =
        i % 500 === 7
          ? `huge ${i} ${'é'.repeat(40_000)}\n` // longer than a 64 KiB chunk once encoded
          : `line ${i} ${'ü€'.repeat(i % 50)} ${'x'.repeat(i % 300)}\n`;
      expected.push(line);
      file.write(line);
      if (i % 400 === 0) {
        await new Promise((r) => setImmediate(r));
      }
    }
    await file.close();
    expect(readFileSync(path, 'utf8')).toBe(expected.join(''));
    expect(file.dropped).toBe(0);
  });

  it('should reuse its written buffers instead of allocating new ones as the log goes on', async () => {
    const path = join(dir, 'r.log');
    const allocations = jest.spyOn(Buffer, 'allocUnsafeSlow');
    try {
      const file = LogWriter.toFile(path, { flushBytes: 64 * 1024, flushMs: 10_000 });
      const expected: string[] = [];
      // ~4 MB: about 60 chunks of 64 KiB go through the file.
      for (let i = 0; i < 6000; i++) {
        const line = `line ${i} ${'x'.repeat(600 + (i % 100))}\n`;
        expected.push(line);
        file.write(line);
        if (i % 50 === 0) {
          // Let the write in flight finish, as a real event loop between requests would.
          await new Promise((r) => setTimeout(r, 1));
        }
      }
      await file.close();
      expect(readFileSync(path, 'utf8')).toBe(expected.join(''));
      expect(allocations.mock.calls.length).toBeLessThanOrEqual(6);
    } finally {
      allocations.mockRestore();
    }
  });

  it('should drop and count lines instead of buffering without bound', async () => {
    const path = join(dir, 'b.log');
    const file = LogWriter.toFile(path, {
      flushBytes: 1 << 30,
      flushMs: 10_000,
      maxBufferBytes: 100,
    });
    for (let i = 0; i < 50; i++) {
      file.write('0123456789\n');
    }
    expect(file.dropped).toBeGreaterThan(0);
    await file.close();
    expect(readFileSync(path, 'utf8').length).toBeLessThanOrEqual(200);
  });
});

/** A FIFO whose both ends are open non-blocking, as a container runtime's log pipe is to us. */
function openPipe(dir: string): { readFd: number; writeFd: number; read(max?: number): string } {
  const path = join(dir, 'fifo');
  execFileSync('mkfifo', [path]);
  const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeFd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  const buf = Buffer.alloc(1 << 20);
  return {
    readFd,
    writeFd,
    /** Everything the pipe holds now (up to `max` bytes). */
    read(max = Infinity) {
      let out = '';
      while (out.length < max) {
        let n: number;
        try {
          n = readSync(readFd, buf, 0, Math.min(buf.length, max - out.length), null);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
            break;
          }
          throw err;
        }
        if (n === 0) {
          break;
        }
        out += buf.toString('latin1', 0, n);
      }
      return out;
    },
  };
}

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('LogWriter on a non-blocking pipe', () => {
  let dir: string;
  let pipe: ReturnType<typeof openPipe>;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'log-pipe-'));
    pipe = openPipe(dir);
  });
  afterEach(() => {
    closeSync(pipe.readFd);
    closeSync(pipe.writeFd);
    rmSync(dir, { recursive: true, force: true });
  });

  const lineOf = (i: number): string => `{"n":${i},"pad":"${'x'.repeat(200 + (i % 97))}"}\n`;

  it('should write everything in order while the reader keeps falling behind', async () => {
    const writer = new LogWriter(pipe.writeFd, 'nonblocking', { flushBytes: 8192, flushMs: 5 });
    let expected = '';
    let received = '';
    // ~2.6 MB through a 64 KiB pipe, read in small bites: EAGAIN and short writes all along.
    for (let i = 0; i < 10_000; i++) {
      const line = lineOf(i);
      expected += line;
      writer.write(line);
      if (i % 100 === 0) {
        received += pipe.read(16 * 1024);
        await tick();
      }
    }
    expect(await drainWhileReading()).toBe(true);
    received += pipe.read();
    expect(received.length).toBe(expected.length);
    expect(received).toBe(expected);
    expect(writer.dropped).toBe(0);

    async function drainWhileReading(): Promise<boolean> {
      const drained = writer.drain(20_000);
      let done = false;
      void drained.then(() => (done = true));
      while (!done) {
        received += pipe.read();
        await tick(2);
      }
      return drained;
    }
  });

  it('should never block on a stalled reader: it drops and counts lines past its bound, then reports the gap', async () => {
    const notices: number[] = [];
    const writer = new LogWriter(pipe.writeFd, 'nonblocking', {
      flushBytes: 4096,
      flushMs: 5,
      maxBufferBytes: 256 * 1024,
      onDropsEnded: (n) => notices.push(n),
    });
    const started = performance.now();
    for (let i = 0; i < 20_000; i++) {
      writer.write(lineOf(i));
    }
    // 5 MB offered to a pipe nobody reads: the writes return at once.
    expect(performance.now() - started).toBeLessThan(2000);
    expect(writer.dropped).toBeGreaterThan(0);
    expect(writer.pendingBytes).toBeLessThanOrEqual(256 * 1024 + 4096);
    expect(await writer.drain(50)).toBe(false);

    // The reader comes back: what was kept arrives whole and in order, then the notice.
    let received = '';
    const drained = writer.drain(10_000);
    let done = false;
    void drained.then(() => (done = true));
    while (!done) {
      received += pipe.read();
      await tick(2);
    }
    expect(await drained).toBe(true);
    received += pipe.read();
    const numbers = received
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as { n: number }).n);
    expect(numbers.length + writer.dropped).toBe(20_000);
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    expect(numbers[0]).toBe(0);
    await tick();
    expect(notices).toEqual([writer.dropped]);
  });

  it('should write at exit what the pipe takes within a bounded time, and count the rest', () => {
    const writer = new LogWriter(pipe.writeFd, 'nonblocking', {
      flushBytes: 1 << 30,
      flushMs: 60_000,
    });
    for (let i = 0; i < 2000; i++) {
      writer.write(lineOf(i));
    }
    const started = performance.now();
    writer.flushSync();
    const took = performance.now() - started;
    // ~0.5 MB into a 64 KiB pipe nobody reads: it fills the pipe, retries ~0.5 s, gives up.
    expect(took).toBeLessThan(3000);
    const received = pipe.read();
    // Whole lines only, in order: nothing torn at the end of the log.
    expect(received.endsWith('\n')).toBe(true);
    const numbers = received
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as { n: number }).n);
    expect(numbers).toEqual(numbers.map((_, i) => i));
    expect(numbers.length).toBeGreaterThan(100);
    expect(writer.lostAtExit).toBe(2000 - numbers.length);
  });

  it('should write everything at exit when the pipe has room', () => {
    const writer = new LogWriter(pipe.writeFd, 'nonblocking', {
      flushBytes: 1 << 30,
      flushMs: 60_000,
    });
    writer.write('one\n');
    writer.write('two\n');
    writer.flushSync();
    expect(pipe.read()).toBe('one\ntwo\n');
    expect(writer.lostAtExit).toBe(0);
  });

  /**
   * Two writers (two cluster workers) on one pipe, in the order that tears lines: the first
   * finds the pipe nearly full and gets part of its batch in; the reader makes room; the second
   * writes before the first has written its rest.
   */
  async function twoWriters(sharedPipe: boolean): Promise<string[]> {
    const options = { flushBytes: 1 << 30, flushMs: 60_000, sharedPipe };
    const a = new LogWriter(pipe.writeFd, 'nonblocking', options);
    const b = new LogWriter(pipe.writeFd, 'nonblocking', options);
    const filler = `{"w":"filler","pad":"${'f'.repeat(100)}"}\n`;
    for (;;) {
      try {
        writeSync(pipe.writeFd, filler);
      } catch {
        break; // EAGAIN: the pipe is full
      }
    }
    let received = pipe.read(10_000); // frees two pages
    for (let i = 0; i < 40; i++) {
      a.write(`{"w":"a","n":${i},"pad":"${'a'.repeat(400 + i)}"}\n`);
      b.write(`{"w":"b","n":${i},"pad":"${'b'.repeat(400 + i)}"}\n`);
    }
    const drainedA = a.drain(10_000); // a writes what fits now
    received += pipe.read();
    const drainedB = b.drain(10_000); // b writes at once, before a's retry
    let done = false;
    void Promise.all([drainedA, drainedB]).then(() => (done = true));
    while (!done) {
      received += pipe.read();
      await tick(1);
    }
    received += pipe.read();
    return received
      .trimEnd()
      .split('\n')
      .filter((l) => !l.startsWith('{"w":"filler"'));
  }

  it('should keep lines whole when another process writes to the same pipe', async () => {
    const lines = await twoWriters(true);
    expect(lines).toHaveLength(80);
    const parsed = lines.map((l) => JSON.parse(l) as { w: string; n: number });
    for (const w of ['a', 'b']) {
      const ns = parsed.filter((p) => p.w === w).map((p) => p.n);
      expect(ns).toEqual(ns.map((_, i) => i));
    }
  });

  it('would tear lines with plain batched writes there (what the shared mode prevents)', async () => {
    const lines = await twoWriters(false);
    const torn = lines.filter((l) => {
      try {
        JSON.parse(l);
        return false;
      } catch {
        return true;
      }
    });
    expect(torn.length).toBeGreaterThan(0);
  });
});

describe("atomicPiece (a shared pipe's write size)", () => {
  it('should take a short buffer whole', () => {
    expect(atomicPiece(Buffer.from('a\nb\n'))).toBe(4);
  });

  it('should cut a long buffer at the last line end within PIPE_BUF', () => {
    const buf = Buffer.from(`${'a'.repeat(3000)}\n${'b'.repeat(2000)}\n`);
    expect(atomicPiece(buf)).toBe(3001);
  });

  it('should take a line longer than PIPE_BUF alone, up to its end', () => {
    const buf = Buffer.from(`${'a'.repeat(5000)}\nb\n`);
    expect(atomicPiece(buf)).toBe(5001);
  });
});

describe('unwritten (what a short writev leaves)', () => {
  const batch = [Buffer.from('abc'), Buffer.from('defg'), Buffer.from('hi')];
  const text = (rest: Buffer[]) => rest.map((b) => b.toString()).join('|');

  it('should resume inside the buffer the write stopped in', () => {
    expect(text(unwritten(batch, 5))).toBe('fg|hi');
  });

  it('should resume at the next buffer when the write stopped on a boundary', () => {
    expect(text(unwritten(batch, 3))).toBe('defg|hi');
  });

  it('should leave nothing once every byte is written', () => {
    expect(unwritten(batch, 9)).toEqual([]);
  });
});
