import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessLogFile, unwritten } from './access-log-file';

describe('AccessLogFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'access-log-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('should batch lines and write them all, in order, by close', async () => {
    const path = join(dir, 'nested', 'access.log');
    const file = new AccessLogFile(path, 1024, 10_000);
    for (let i = 0; i < 500; i++) {
      file.append(`line ${i}\n`);
    }
    await file.close();
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(500);
    expect(lines[0]).toBe('line 0');
    expect(lines[499]).toBe('line 499');
  });

  it('should flush a small batch after its timer', async () => {
    const path = join(dir, 'a.log');
    const file = new AccessLogFile(path, 64 * 1024, 20);
    file.append('one\n');
    expect(readFileSync(path, 'utf8')).toBe('');
    await new Promise((r) => setTimeout(r, 100));
    expect(readFileSync(path, 'utf8')).toBe('one\n');
    await file.close();
  });

  it('should keep every byte and the order across chunks, multi-byte text and oversized lines', async () => {
    const path = join(dir, 'c.log');
    // A small flush threshold: many writes, most started while the previous one is in flight.
    const file = new AccessLogFile(path, 4096, 10_000);
    const expected: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const line =
        i % 500 === 7
          ? `huge ${i} ${'é'.repeat(40_000)}\n` // longer than a 64 KiB chunk once encoded
          : `line ${i} ${'ü€'.repeat(i % 50)} ${'x'.repeat(i % 300)}\n`;
      expected.push(line);
      file.append(line);
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
      const file = new AccessLogFile(path, 64 * 1024, 10_000);
      const expected: string[] = [];
      // ~4 MB: about 60 chunks of 64 KiB go through the file.
      for (let i = 0; i < 6000; i++) {
        const line = `line ${i} ${'x'.repeat(600 + (i % 100))}\n`;
        expected.push(line);
        file.append(line);
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
    const file = new AccessLogFile(path, 1 << 30, 10_000, 100);
    for (let i = 0; i < 50; i++) {
      file.append('0123456789\n');
    }
    expect(file.dropped).toBeGreaterThan(0);
    await file.close();
    expect(readFileSync(path, 'utf8').length).toBeLessThanOrEqual(200);
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
