import { CLEAR_BELOW, CLEAR_TO_EOL, CURSOR_HOME, ENTER_ALT_SCREEN, LEAVE_ALT_SCREEN } from './ansi';
import type { TerminalSize } from './dashboard-renderer';

export interface TerminalOut {
  write(text: string): unknown;
  readonly columns?: number;
  readonly rows?: number;
  on(event: 'resize', listener: () => void): unknown;
  off(event: 'resize', listener: () => void): unknown;
}

export interface TerminalIn {
  readonly isTTY?: boolean;
  setRawMode?(raw: boolean): unknown;
  on(event: 'data', listener: (data: Buffer | string) => void): unknown;
  off(event: 'data', listener: (data: Buffer | string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

/** The process-facing side of the dashboard; the service passes Node's, tests their fakes. */
export interface TerminalIO {
  stdout: TerminalOut;
  stdin?: TerminalIn;
  /** Delivers a signal to this process: in raw mode Ctrl-C arrives as a byte, not as SIGINT. */
  kill(signal: NodeJS.Signals): void;
  /** Runs `restore` if the process exits while the dashboard is up; returns the unregister. */
  onExit(restore: () => void): () => void;
}

const CTRL_C = '\x03';

/**
 * Draws frames in the terminal's alternate screen, in place, every `refreshMs`, and reads keys:
 * `q` closes the dashboard (the caller's `onStop` brings the logs back) and the terminal is left
 * as it was found; Ctrl-C is turned back into SIGINT so the gateway's shutdown runs as usual.
 */
export class TerminalDashboard {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private raw = false;
  private unregisterExit: (() => void) | undefined;

  constructor(
    private readonly io: TerminalIO,
    private readonly frame: (size: TerminalSize) => string[],
    private readonly refreshMs: number,
    private readonly onStop: (error?: unknown) => void = () => undefined,
  ) {}

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) {
      return;
    }
    this.running = true;
    const { stdout, stdin } = this.io;
    stdout.write(ENTER_ALT_SCREEN);
    this.unregisterExit = this.io.onExit(() => this.restoreTerminal());
    if (stdin?.isTTY && stdin.setRawMode) {
      stdin.setRawMode(true);
      this.raw = true;
      stdin.on('data', this.onKey);
      stdin.resume();
    }
    stdout.on('resize', this.draw);
    this.draw();
    this.timer = setInterval(this.draw, this.refreshMs);
    this.timer.unref();
  }

  /** Closes the dashboard and gives the terminal back; idempotent. */
  stop(error?: unknown): void {
    if (!this.running) {
      return;
    }
    this.running = false;
    clearInterval(this.timer);
    this.timer = undefined;
    this.io.stdout.off('resize', this.draw);
    this.io.stdin?.off('data', this.onKey);
    this.restoreTerminal();
    this.unregisterExit?.();
    this.unregisterExit = undefined;
    this.onStop(error);
  }

  private restoreTerminal(): void {
    const stdin = this.io.stdin;
    if (this.raw && stdin) {
      stdin.setRawMode?.(false);
      // Stop reading, so the terminal's line discipline (and Ctrl-C as SIGINT) is back.
      stdin.pause();
      this.raw = false;
    }
    this.io.stdout.write(LEAVE_ALT_SCREEN);
  }

  private readonly draw = (): void => {
    if (!this.running) {
      return;
    }
    const size = { columns: this.io.stdout.columns ?? 80, rows: this.io.stdout.rows ?? 24 };
    let lines: string[];
    try {
      lines = this.frame(size);
    } catch (err) {
      // A rendering bug must never take the gateway down: close the dashboard and report it.
      this.stop(err);
      return;
    }
    this.io.stdout.write(
      CURSOR_HOME + lines.join(CLEAR_TO_EOL + '\r\n') + CLEAR_TO_EOL + CLEAR_BELOW,
    );
  };

  private readonly onKey = (data: Buffer | string): void => {
    const text = typeof data === 'string' ? data : data.toString('latin1');
    for (const ch of text) {
      if (ch === 'q' || ch === 'Q') {
        this.stop();
        return;
      }
      if (ch === CTRL_C) {
        this.io.kill('SIGINT');
        return;
      }
    }
  };
}
