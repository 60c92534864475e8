import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeSync,
  writev,
  writevSync,
} from 'node:fs';
import { dirname } from 'node:path';

/** Size of each buffer lines are encoded into. */
const CHUNK_BYTES = 64 * 1024;
/** Written chunks kept for reuse; more than a few means the output is behind anyway. */
const SPARE_CHUNKS = 4;
/** Writes of at most this many bytes into a pipe are never interleaved with another writer's. */
const PIPE_BUF = 4096;
/** Back-off between attempts while a non-blocking pipe is full, in ms (doubling up to the max). */
const RETRY_MIN_MS = 1;
const RETRY_MAX_MS = 50;
/** How long `flushSync` (process exit) keeps retrying a full non-blocking pipe. */
const EXIT_FLUSH_MS = 500;

const NEWLINE = 0x0a;

export interface LogWriterOptions {
  /** Buffered bytes that start a write at once. @default 64 KiB */
  flushBytes?: number;
  /** Longest time a line waits to be written when the buffer is not full. @default 100 ms */
  flushMs?: number;
  /** Bytes buffered at most; past that, lines are dropped and counted. @default 16 MiB */
  maxBufferBytes?: number;
  /**
   * Other processes write to the same pipe (cluster workers and their primary): every write is
   * then cut at line ends into pieces of at most PIPE_BUF bytes, which a pipe never interleaves,
   * so no line is torn by another process's write.
   */
  sharedPipe?: boolean;
  /**
   * Called (from a microtask) once the output caught up again after lines were dropped, with the
   * number dropped since the last call: the caller logs it, so the gap shows where it happened.
   */
  onDropsEnded?: (dropped: number) => void;
}

/**
 * How writes are made:
 * - `nonblocking`: pipes and sockets (what container runtimes and systemd give as stdout). The
 *   descriptor is in non-blocking mode, so a write from the main thread copies what fits into
 *   the kernel and returns at once (EAGAIN when the reader is behind: retried on a timer). No
 *   thread ever sleeps on a reader that stopped reading, and no write is in flight at exit.
 * - `async`: regular files, terminals, /dev/null: `writev` on libuv's thread pool, so a slow disk
 *   never stalls the event loop.
 */
type WriteMode = 'nonblocking' | 'async';

/**
 * A batched, bounded writer of log lines (the pino destination for stdout, and the
 * `ACCESS_LOG_FILE` writer). At proxy rates a write (or even a `Buffer.byteLength`) per line is
 * measurable CPU: pino's synchronous stdout cost the full pipeline ~20% of its throughput.
 *
 * Each line is encoded into a reused 64 KiB buffer as it arrives, not kept as a string until the
 * batch is written: a line is a tree of concatenated pieces, and a few hundred of them waiting
 * for the next flush were what every young-generation GC had to copy (and then promote), which
 * made the pauses behind the gateway's p99 longer and its RSS grow under load. A batch of
 * several buffers goes out in one `writev` (no copy into one buffer), and written buffers are
 * reused, so a busy log allocates nothing once it runs.
 *
 * Lines leave in the order they were written. At most `maxBufferBytes` wait; past that, lines
 * are dropped and counted (`dropped`) rather than blocking the event loop or growing memory
 * without bound when the output cannot keep up. `drain` (shutdown) waits, bounded, for
 * everything to be written; `flushSync` (process exit, fatal errors) writes what it can without
 * ever blocking on a stalled reader.
 */
export class LogWriter {
  /** Lines dropped because the output could not keep up (or failed). */
  dropped = 0;
  /** Lines still unwritten when the process exited (`flushSync` could not place them). */
  lostAtExit = 0;

  private readonly flushBytes: number;
  private readonly flushMs: number;
  private readonly maxBufferBytes: number;
  private readonly sharedPipe: boolean;
  private readonly onDropsEnded: ((dropped: number) => void) | undefined;

  /** The buffer lines are being encoded into, and how much of it is used. */
  private current: Buffer;
  private used = 0;
  /**
   * Filled buffers (or their unwritten tails) waiting, oldest first. In `async` mode the batch in
   * flight has already left this list; in `nonblocking` mode a batch the pipe did not take whole
   * stays at its front.
   */
  private queued: Buffer[] = [];
  private queuedBytes = 0;
  /** Whole chunks back from finished writes, reused before allocating. */
  private readonly spares: Buffer[] = [];
  /** An `async` write is in flight (its bytes are in `inFlightBytes`). */
  private writing = false;
  private inFlightBytes = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  /** Set while a full non-blocking pipe is waited out. */
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = RETRY_MIN_MS;
  private droppedSinceNotice = 0;
  private closed = false;
  /** `drain` callers waiting for everything to be written. */
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly fd: number,
    private readonly mode: WriteMode,
    options: LogWriterOptions = {},
    private readonly ownsFd = false,
  ) {
    this.flushBytes = options.flushBytes ?? 64 * 1024;
    this.flushMs = options.flushMs ?? 100;
    this.maxBufferBytes = options.maxBufferBytes ?? 16 * 1024 * 1024;
    this.sharedPipe = options.sharedPipe ?? false;
    this.onDropsEnded = options.onDropsEnded;
    this.current = Buffer.allocUnsafeSlow(CHUNK_BYTES);
    liveWriters.add(this);
    installExitFlush();
  }

  /** An append-only file, created with its directory when missing. */
  static toFile(path: string, options?: LogWriterOptions): LogWriter {
    mkdirSync(dirname(path), { recursive: true });
    return new LogWriter(openSync(path, 'a'), 'async', options, true);
  }

  /**
   * The process's stdout. A pipe or socket is switched to non-blocking mode through Node's own
   * `process.stdout` (a net.Socket on them, which sets O_NONBLOCK), then written without it.
   */
  static toStdout(options?: LogWriterOptions): LogWriter {
    return new LogWriter(1, stdoutMode(), options);
  }

  /** How this writer writes (tests and the startup summary). */
  get writeMode(): WriteMode {
    return this.mode;
  }

  /** Bytes accepted and not yet written. */
  get pendingBytes(): number {
    return this.queuedBytes + this.used + this.inFlightBytes;
  }

  /** pino's destination interface: one serialised line (with its `\n`). */
  write(line: string): boolean {
    if (this.closed) {
      return true;
    }
    if (this.pendingBytes > this.maxBufferBytes) {
      this.dropped++;
      this.droppedSinceNotice++;
      return true;
    }
    // UTF-8 takes at most 3 bytes per UTF-16 unit: reserve that, then write what it really took.
    const worst = line.length * 3;
    if (this.used + worst > this.current.length) {
      this.queueCurrent();
      if (worst > this.current.length) {
        // A line longer than a chunk (huge error text) travels as its own buffer.
        this.enqueue(Buffer.from(line, 'utf8'));
        this.afterWrite();
        return true;
      }
    }
    this.used += this.current.write(line, this.used, 'utf8');
    this.afterWrite();
    return true;
  }

  /**
   * Resolves once everything accepted so far is written (true), or after `timeoutMs` (false: the
   * output is stalled; what is left stays buffered for `flushSync`).
   */
  drain(timeoutMs: number): Promise<boolean> {
    this.startWrite();
    if (this.isIdle()) {
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(done);
    });
  }

  /** pino's `logger.flush(cb)`: starts writing now; `cb` once written (or stalled 10 s). */
  flush(cb?: (err?: Error) => void): void {
    void this.drain(10_000).then(() => cb?.());
  }

  /**
   * Writes what is buffered before the process exits, synchronously and without blocking on a
   * stalled reader: a full non-blocking pipe is retried for at most EXIT_FLUSH_MS. An `async`
   * write still in flight (on the thread pool) cannot be waited for here, and writing after it
   * could reorder lines, so the rest is then counted in `lostAtExit`.
   */
  flushSync(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.queueCurrent();
    if (this.writing) {
      this.loseAtExit();
      return;
    }
    const deadline = Date.now() + EXIT_FLUSH_MS;
    while (this.queued.length > 0) {
      // Whole lines only into a pipe now: a part written before giving up would be a torn last
      // line, and nothing will ever write its rest.
      const outcome = this.writeSome(this.mode === 'nonblocking');
      if (outcome === 'again') {
        if (Date.now() >= deadline) {
          break;
        }
        // A short sleep without returning to the event loop, which will not run again.
        Atomics.wait(SLEEPER, 0, 0, 2);
      } else if (outcome === 'failed') {
        break;
      }
    }
    this.loseAtExit();
  }

  private loseAtExit(): void {
    for (const chunk of this.queued) {
      this.lostAtExit += countLines(chunk);
    }
    this.queued = [];
    this.queuedBytes = 0;
  }

  /** Writes what is left (bounded by `timeoutMs`), then closes a descriptor this writer opened. */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.closed) {
      return;
    }
    await this.drain(timeoutMs);
    this.closed = true;
    this.flushSync();
    clearTimeout(this.flushTimer);
    clearTimeout(this.retryTimer);
    liveWriters.delete(this);
    if (this.ownsFd && !this.writing) {
      closeSync(this.fd);
    }
  }

  private isIdle(): boolean {
    return this.pendingBytes === 0 && !this.writing;
  }

  private afterWrite(): void {
    if (this.queuedBytes + this.used >= this.flushBytes) {
      this.startWrite();
    } else if (this.flushTimer === undefined && this.retryTimer === undefined) {
      this.flushTimer = setTimeout(this.onFlushTimer, this.flushMs);
      this.flushTimer.unref();
    }
  }

  private readonly onFlushTimer = (): void => {
    this.flushTimer = undefined;
    this.startWrite();
  };

  private readonly onRetryTimer = (): void => {
    this.retryTimer = undefined;
    this.startWrite();
  };

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
    this.current = this.spares.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES);
    this.used = 0;
  }

  /** Writes what is buffered, unless a write is in flight or a full pipe is being waited out. */
  private startWrite(): void {
    if (this.writing || this.retryTimer !== undefined) {
      return;
    }
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.queueCurrent();
    if (this.queued.length === 0) {
      this.settled();
      return;
    }
    if (this.mode === 'async') {
      const batch = this.queued;
      this.queued = [];
      this.inFlightBytes = this.queuedBytes;
      this.queuedBytes = 0;
      this.writing = true;
      this.writeAsync(batch);
      return;
    }
    let outcome: 'done' | 'again' | 'failed' = 'done';
    while (this.queued.length > 0 && outcome !== 'again') {
      outcome = this.writeSome();
    }
    if (outcome === 'again') {
      this.waitForReader();
      return;
    }
    this.retryMs = RETRY_MIN_MS;
    this.settled();
  }

  /**
   * One write from the front of the queue (`wholeLines`: at most PIPE_BUF bytes of whole lines);
   * what was written leaves the queue.
   * 'again': the pipe is full (nothing or part written); 'failed': the output is gone (EPIPE,
   * EBADF...), and what was queued is dropped and counted.
   */
  private writeSome(wholeLines = this.sharedPipe): 'done' | 'again' | 'failed' {
    let written: number;
    try {
      if (wholeLines) {
        const head = this.queued[0];
        written = writeSync(this.fd, head, 0, atomicPiece(head));
      } else {
        written = writevSync(this.fd, this.queued);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
        return 'again';
      }
      this.lose(this.queued);
      this.queued = [];
      this.queuedBytes = 0;
      return 'failed';
    }
    this.consume(written);
    return written > 0 ? 'done' : 'again';
  }

  /** Drops the first `written` bytes of the queue, recycling the chunks that were emptied. */
  private consume(written: number): void {
    this.queuedBytes -= written;
    let skip = written;
    let i = 0;
    while (i < this.queued.length && skip >= this.queued[i].length) {
      skip -= this.queued[i].length;
      i++;
    }
    this.recycle(this.queued.slice(0, i));
    this.queued = this.queued.slice(i);
    if (skip > 0) {
      this.queued[0] = this.queued[0].subarray(skip);
    }
  }

  /** The reader is behind: try again after a back-off (doubling while nothing goes through). */
  private waitForReader(): void {
    this.retryTimer = setTimeout(this.onRetryTimer, this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
  }

  private writeAsync(batch: Buffer[]): void {
    writev(this.fd, batch, (err, written) => {
      if (!err && written > 0) {
        this.inFlightBytes -= written;
        const rest = unwritten(batch, written);
        if (rest.length > 0) {
          // A short write: the rest goes next, in order.
          this.writeAsync(rest);
          return;
        }
        this.recycle(batch);
      } else if (err?.code === 'EAGAIN') {
        // A descriptor someone else made non-blocking (a terminal): retry, in order.
        this.writing = false;
        this.queued = batch.concat(this.queued);
        this.queuedBytes += this.inFlightBytes;
        this.inFlightBytes = 0;
        this.waitForReader();
        return;
      } else {
        this.lose(batch);
      }
      this.inFlightBytes = 0;
      this.writing = false;
      this.retryMs = RETRY_MIN_MS;
      if (this.queuedBytes + this.used >= this.flushBytes || this.idleWaiters.length > 0) {
        this.startWrite();
      } else if (this.queuedBytes + this.used > 0 && this.flushTimer === undefined) {
        this.flushTimer = setTimeout(this.onFlushTimer, this.flushMs);
        this.flushTimer.unref();
      } else {
        this.settled();
      }
    });
  }

  /** After a write round: wake `drain` callers when all is out, report the end of dropping. */
  private settled(): void {
    if (this.droppedSinceNotice > 0 && this.pendingBytes < this.maxBufferBytes / 2) {
      const n = this.droppedSinceNotice;
      this.droppedSinceNotice = 0;
      if (this.onDropsEnded) {
        const notify = this.onDropsEnded;
        queueMicrotask(() => notify(n));
      }
    }
    if (this.isIdle() && this.idleWaiters.length > 0) {
      for (const done of this.idleWaiters.splice(0)) {
        done();
      }
    }
  }

  /** A batch the output refused for good: its lines count as dropped. */
  private lose(batch: Buffer[]): void {
    for (const chunk of batch) {
      this.dropped += countLines(chunk);
    }
  }

  /** Keeps written chunks of ours for the next lines; nothing references them any more. */
  private recycle(batch: Buffer[]): void {
    for (const chunk of batch) {
      if (this.spares.length >= SPARE_CHUNKS) {
        return;
      }
      if (chunk.byteOffset === 0 && chunk.buffer.byteLength === CHUNK_BYTES) {
        this.spares.push(Buffer.from(chunk.buffer, 0, CHUNK_BYTES));
      }
    }
  }
}

/** What is left of `batch` after its first `written` bytes went out. */
export function unwritten(batch: Buffer[], written: number): Buffer[] {
  let skip = written;
  let i = 0;
  while (i < batch.length && skip >= batch[i].length) {
    skip -= batch[i].length;
    i++;
  }
  if (i === batch.length) {
    return [];
  }
  const rest = batch.slice(i);
  rest[0] = rest[0].subarray(skip);
  return rest;
}

/**
 * Length of the first piece of `buf` to write into a shared pipe: whole lines up to PIPE_BUF
 * bytes (atomic), or one longer line alone. Every buffer ends at a line end (lines are encoded
 * whole), so pieces do too.
 */
export function atomicPiece(buf: Buffer): number {
  if (buf.length <= PIPE_BUF) {
    return buf.length;
  }
  const lastEnd = buf.lastIndexOf(NEWLINE, PIPE_BUF - 1);
  if (lastEnd !== -1) {
    return lastEnd + 1;
  }
  const end = buf.indexOf(NEWLINE, PIPE_BUF);
  return end === -1 ? buf.length : end + 1;
}

function countLines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(NEWLINE); i !== -1; i = buf.indexOf(NEWLINE, i + 1)) {
    n++;
  }
  return n;
}

/**
 * `nonblocking` when stdout is a pipe or socket that Node's `process.stdout` (a net.Socket there)
 * has put in O_NONBLOCK mode, which /proc confirms where it exists; `async` otherwise.
 */
function stdoutMode(): WriteMode {
  let stat;
  try {
    stat = fstatSync(1);
  } catch {
    return 'async';
  }
  if (!stat.isFIFO() && !stat.isSocket()) {
    return 'async';
  }
  // Creating it is what sets the mode; nothing is ever written through it.
  void process.stdout.writable;
  const flags = fdFlags(1);
  return flags === undefined || (flags & O_NONBLOCK) !== 0 ? 'nonblocking' : 'async';
}

/** Linux's O_NONBLOCK (octal 04000), as /proc/self/fdinfo prints the flags. */
const O_NONBLOCK = 0o4000;

function fdFlags(fd: number): number | undefined {
  try {
    const m = /^flags:\s+([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    return m ? parseInt(m[1], 8) : undefined;
  } catch {
    return undefined;
  }
}

const SLEEPER = new Int32Array(new SharedArrayBuffer(4));

/** Writers still open, flushed by one 'exit' listener (also run after an uncaught exception). */
const liveWriters = new Set<LogWriter>();
let exitFlushInstalled = false;

function installExitFlush(): void {
  if (exitFlushInstalled) {
    return;
  }
  exitFlushInstalled = true;
  process.on('exit', () => {
    let lost = 0;
    for (const writer of liveWriters) {
      writer.flushSync();
      lost += writer.lostAtExit;
    }
    if (lost > 0) {
      // process.stderr never blocks on a pipe (it is asynchronous there), so this cannot hang.
      process.stderr.write(`gateway: ${lost} log lines could not be written at exit\n`);
    }
  });
}
