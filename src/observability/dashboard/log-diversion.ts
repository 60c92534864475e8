import pino, { type Logger } from 'pino';
import type { DashboardLogLine } from './dashboard-renderer';

const WARN = 40;
const LABELS: Record<string, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
};
const NAMES: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

interface LineSink {
  write(line: string): unknown;
}

/**
 * While the terminal dashboard is on, log lines would scroll through it. This takes over the
 * root logger's destination (every child logger, nestjs-pino's included, writes through the
 * root's stream): warn and above are kept (the last `keep`) for the dashboard's pane and written
 * out, in order, once the dashboard closes; lower levels are counted and dropped (the access log
 * keeps going to `ACCESS_LOG_FILE` when one is set). `restore()` puts the original destination
 * back.
 */
export class LogDiversion {
  private original: LineSink | undefined;
  private readonly kept: string[] = [];
  /** Lines below warn dropped while diverted. */
  hidden = 0;

  constructor(
    private readonly logger: Logger,
    private readonly keep = 200,
  ) {}

  get active(): boolean {
    return this.original !== undefined;
  }

  divert(): void {
    if (this.original) {
      return;
    }
    const target = this.logger as unknown as Record<symbol, LineSink>;
    this.original = target[pino.symbols.streamSym];
    target[pino.symbols.streamSym] = { write: (line: string) => this.capture(line) };
  }

  /** Gives the logger its destination back and writes the kept warnings to it. */
  restore(): void {
    const original = this.original;
    if (!original) {
      return;
    }
    const target = this.logger as unknown as Record<symbol, LineSink>;
    target[pino.symbols.streamSym] = original;
    this.original = undefined;
    for (const line of this.kept.splice(0)) {
      original.write(line);
    }
    if (this.hidden > 0) {
      this.logger.info(
        { hiddenLines: this.hidden },
        'terminal dashboard closed; lines below warn written while it was up were not shown',
      );
      this.hidden = 0;
    }
  }

  /** The latest kept lines, for the dashboard pane (oldest first). */
  recent(n: number): DashboardLogLine[] {
    return this.kept.slice(-n).map(toDashboardLine);
  }

  private capture(line: string): void {
    if (levelOf(line) < WARN) {
      this.hidden++;
      return;
    }
    this.kept.push(line);
    if (this.kept.length > this.keep) {
      this.kept.shift();
    }
  }
}

/** The level of a pino JSON line, labelled (`"level":"warn"`) or numeric (`"level":40`). */
export function levelOf(line: string): number {
  const m = /"level":(?:"([a-z]+)"|(\d+))/.exec(line.slice(0, 64));
  if (!m) {
    return WARN;
  }
  return m[1] !== undefined ? (LABELS[m[1]] ?? WARN) : Number(m[2]);
}

function toDashboardLine(line: string): DashboardLogLine {
  try {
    const o = JSON.parse(line) as {
      level?: string | number;
      time?: string | number;
      msg?: unknown;
      err?: { message?: unknown };
    };
    const level =
      typeof o.level === 'number' ? (NAMES[o.level] ?? String(o.level)) : (o.level ?? 'warn');
    const when = o.time === undefined ? new Date() : new Date(o.time);
    const msg = typeof o.msg === 'string' ? o.msg : '';
    const err = typeof o.err?.message === 'string' ? `: ${o.err.message}` : '';
    return {
      time: Number.isNaN(when.getTime()) ? '--:--:--' : when.toTimeString().slice(0, 8),
      level,
      msg: msg + err,
    };
  } catch {
    return { time: '--:--:--', level: 'warn', msg: line.trim() };
  }
}
