import { closeSync, mkdirSync, openSync, write, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Size of each buffer lines are encoded into. */
const CHUNK_BYTES = 64 * 1024;

/**
 * An append-only file that batches lines in memory and writes them with one asynchronous
 * `write` per batch: at proxy rates a write (or even a `Buffer.byteLength`) per line is
 * measurable CPU (sonic-boom cost ~7% of a request in the bench profile).
 *
 * Each line is encoded into a reused 64 KiB buffer as it arrives, not kept as a string until the
 * batch is written: a line is a tree of concatenated pieces, and a few hundred of them waiting
 * for the next flush were what every young-generation GC had to copy (and then promote), which
 * made the pauses behind the gateway's p99 longer and its RSS grow under load.
 *
 * At most `maxBufferBytes` are buffered; past that, lines are dropped and counted rather than
 * letting a slow disk grow memory without bound.
 */
export class AccessLogFile {
  private readonly fd: number;
  /** The buffer lines are being encoded into, and how much of it is used. */
  private current: Buffer;
  private used = 0;
  /** Filled buffers (or parts) waiting for the next write, oldest first. */
  private queued: Buffer[] = [];
  private queuedBytes = 0;
  /** A whole chunk back from a finished write, reused for the next one. */
  private spare: Buffer | undefined;
  private writing = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Resolves `close()`'s wait for the write in flight. */
  private writeDone: (() => void) | undefined;
  /** Lines dropped because the disk could not keep up. */
  dropped = 0;

  constructor(
    path: string,
    private readonly flushBytes = 64 * 1024,
    private readonly flushMs = 200,
    private readonly maxBufferBytes = 16 * 1024 * 1024,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'a');
    this.current = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  }

  /** Bytes waiting to be written. */
  private get pendingBytes(): number {
    return this.queuedBytes + this.used;
  }

  append(line: string): void {
    if (this.closed) {
      return;
    }
    if (this.pendingBytes > this.maxBufferBytes) {
      this.dropped++;
      return;
    }
    // UTF-8 takes at most 3 bytes per UTF-16 unit: reserve that, then write what it really took.
    const worst = line.length * 3;
    if (this.used + worst > this.current.length) {
      this.queueCurrent();
      if (worst > this.current.length) {
        // A line longer than a chunk (huge error text) travels as its own buffer.
        this.enqueue(Buffer.from(line, 'utf8'));
        this.afterAppend();
        return;
      }
    }
    this.used += this.current.write(line, this.used, 'utf8');
    this.afterAppend();
  }

  /**
   * Waits for the write in flight (closing the descriptor under it would lose that batch), then
   * writes what is still buffered and closes the file.
   */
  async close(): Promise<void> {
    if (this.closed) {
      return;
    }
    this.closed = true;
    clearTimeout(this.timer);
    if (this.writing) {
      await new Promise<void>((resolve) => (this.writeDone = resolve));
    }
    const rest = this.takeBatch();
    if (rest !== undefined) {
      writeFully(this.fd, rest);
    }
    closeSync(this.fd);
  }

  private afterAppend(): void {
    if (this.pendingBytes >= this.flushBytes) {
      this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(this.onTimer, this.flushMs);
      this.timer.unref();
    }
  }

  private enqueue(chunk: Buffer): void {
    this.queued.push(chunk);
    this.queuedBytes += chunk.length;
  }

  /** Moves the used part of the current buffer to the queue and starts a fresh buffer. */
  private queueCurrent(): void {
    if (this.used === 0) {
      return;
    }
    this.enqueue(this.current.subarray(0, this.used));
    this.current = this.spare ?? Buffer.allocUnsafeSlow(CHUNK_BYTES);
    this.spare = undefined;
    this.used = 0;
  }

  /** Everything pending as one buffer (copied only when more than one chunk waits). */
  private takeBatch(): Buffer | undefined {
    this.queueCurrent();
    if (this.queued.length === 0) {
      return undefined;
    }
    const batch =
      this.queued.length === 1 ? this.queued[0] : Buffer.concat(this.queued, this.queuedBytes);
    this.queued = [];
    this.queuedBytes = 0;
    return batch;
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.flush();
  };

  private flush(): void {
    if (this.writing) {
      return;
    }
    const batch = this.takeBatch();
    if (batch === undefined) {
      return;
    }
    this.writing = true;
    this.writeFrom(batch, 0);
  }

  private writeFrom(batch: Buffer, offset: number): void {
    write(this.fd, batch, offset, batch.length - offset, null, (err, written) => {
      if (!err && offset + written < batch.length && written > 0) {
        // A short write (regular files rarely do it): the rest goes next, in order.
        this.writeFrom(batch, offset + written);
        return;
      }
      this.writing = false;
      if (batch.buffer.byteLength === CHUNK_BYTES && batch.byteOffset === 0) {
        // One of our chunks: nothing references it any more, so the next one can reuse it.
        this.spare = Buffer.from(batch.buffer, 0, CHUNK_BYTES);
      }
      if (this.writeDone) {
        this.writeDone();
        return;
      }
      if (this.pendingBytes >= this.flushBytes) {
        this.flush();
      } else if (this.pendingBytes > 0 && !this.timer && !this.closed) {
        this.timer = setTimeout(this.onTimer, this.flushMs);
        this.timer.unref();
      }
    });
  }
}

/** Synchronous write of a whole buffer (shutdown only), tolerating short writes. */
function writeFully(fd: number, data: Buffer): void {
  let offset = 0;
  while (offset < data.length) {
    const written = writeSync(fd, data, offset, data.length - offset);
    if (written <= 0) {
      return;
    }
    offset += written;
  }
}
