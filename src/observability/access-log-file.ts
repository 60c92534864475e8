import { closeSync, mkdirSync, openSync, write, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * An append-only file that batches lines in memory and writes them with one asynchronous
 * `write` per batch: at proxy rates a write (or even a `Buffer.byteLength`) per line is
 * measurable CPU (sonic-boom cost ~7% of a request in the bench profile). At most
 * `maxBufferBytes` are buffered; past that, lines are dropped and counted rather than letting a
 * slow disk grow memory without bound.
 */
export class AccessLogFile {
  private readonly fd: number;
  private pending: string[] = [];
  private pendingLength = 0;
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
  }

  append(line: string): void {
    if (this.closed) {
      return;
    }
    if (this.pendingLength > this.maxBufferBytes) {
      this.dropped++;
      return;
    }
    this.pending.push(line);
    this.pendingLength += line.length;
    if (this.pendingLength >= this.flushBytes) {
      this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(this.onTimer, this.flushMs);
      this.timer.unref();
    }
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
    if (this.pending.length > 0) {
      writeSync(this.fd, this.pending.join(''));
      this.pending = [];
    }
    closeSync(this.fd);
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.flush();
  };

  private flush(): void {
    if (this.writing || this.pending.length === 0) {
      return;
    }
    const data = this.pending.join('');
    this.pending = [];
    this.pendingLength = 0;
    this.writing = true;
    write(this.fd, data, null, 'utf8', () => {
      this.writing = false;
      if (this.writeDone) {
        this.writeDone();
        return;
      }
      if (this.pendingLength >= this.flushBytes) {
        this.flush();
      } else if (this.pending.length > 0 && !this.timer && !this.closed) {
        this.timer = setTimeout(this.onTimer, this.flushMs);
        this.timer.unref();
      }
    });
  }
}
