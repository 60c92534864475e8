import { EventEmitter } from 'node:events';
import { ENTER_ALT_SCREEN, LEAVE_ALT_SCREEN } from './ansi';
import { TerminalDashboard, type TerminalIO } from './terminal-dashboard';

class FakeOut extends EventEmitter {
  written = '';
  columns = 100;
  rows = 30;
  write(text: string): boolean {
    this.written += text;
    return true;
  }
}

class FakeIn extends EventEmitter {
  isTTY = true;
  rawCalls: boolean[] = [];
  reading = false;
  setRawMode(raw: boolean): this {
    this.rawCalls.push(raw);
    return this;
  }
  resume(): this {
    this.reading = true;
    return this;
  }
  pause(): this {
    this.reading = false;
    return this;
  }
}

function setup(
  frame = (size: { columns: number; rows: number }) => [`frame ${size.columns}x${size.rows}`],
) {
  const stdout = new FakeOut();
  const stdin = new FakeIn();
  const signals: string[] = [];
  const exitHooks = new Set<() => void>();
  const stops: unknown[] = [];
  const io: TerminalIO = {
    stdout,
    stdin,
    kill: (s) => signals.push(s),
    onExit: (fn) => {
      exitHooks.add(fn);
      return () => exitHooks.delete(fn);
    },
  };
  const dashboard = new TerminalDashboard(io, frame, 50, (err) => stops.push(err ?? 'stopped'));
  return { dashboard, stdout, stdin, signals, exitHooks, stops };
}

describe('TerminalDashboard', () => {
  it('should draw in the alternate screen and redraw on its timer and on resize', async () => {
    const { dashboard, stdout } = setup();
    dashboard.start();
    expect(stdout.written.startsWith(ENTER_ALT_SCREEN)).toBe(true);
    expect(stdout.written).toContain('frame 100x30');
    const first = stdout.written.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(stdout.written.length).toBeGreaterThan(first);
    stdout.columns = 60;
    stdout.emit('resize');
    expect(stdout.written).toContain('frame 60x30');
    dashboard.stop();
  });

  it('should quit on q: terminal restored, stdin released, no more frames', async () => {
    const { dashboard, stdout, stdin, exitHooks, stops } = setup();
    dashboard.start();
    expect(stdin.rawCalls).toEqual([true]);
    expect(stdin.reading).toBe(true);
    expect(exitHooks.size).toBe(1);
    stdin.emit('data', Buffer.from('q'));
    expect(dashboard.isRunning).toBe(false);
    expect(stdin.rawCalls).toEqual([true, false]);
    expect(stdin.reading).toBe(false);
    expect(stdin.listenerCount('data')).toBe(0);
    expect(stdout.listenerCount('resize')).toBe(0);
    expect(exitHooks.size).toBe(0);
    expect(stdout.written.endsWith(LEAVE_ALT_SCREEN)).toBe(true);
    expect(stops).toEqual(['stopped']);
    const length = stdout.written.length;
    await new Promise((r) => setTimeout(r, 150));
    expect(stdout.written.length).toBe(length);
    // Idempotent.
    dashboard.stop();
    expect(stops).toHaveLength(1);
  });

  it('should turn Ctrl-C into SIGINT for the process and leave the dashboard to shutdown', () => {
    const { dashboard, stdin, signals } = setup();
    dashboard.start();
    stdin.emit('data', '\x03');
    expect(signals).toEqual(['SIGINT']);
    expect(dashboard.isRunning).toBe(true);
    stdin.emit('data', 'x');
    expect(signals).toEqual(['SIGINT']);
    dashboard.stop();
  });

  it('should restore the terminal from its exit hook', () => {
    const { dashboard, stdout, stdin, exitHooks } = setup();
    dashboard.start();
    for (const hook of exitHooks) {
      hook();
    }
    expect(stdin.rawCalls).toEqual([true, false]);
    expect(stdout.written.endsWith(LEAVE_ALT_SCREEN)).toBe(true);
    dashboard.stop();
  });

  it('should close itself, not crash, when a frame throws', () => {
    const boom = new Error('render bug');
    const { dashboard, stdout, stops } = setup(() => {
      throw boom;
    });
    expect(() => dashboard.start()).not.toThrow();
    expect(dashboard.isRunning).toBe(false);
    expect(stops).toEqual([boom]);
    expect(stdout.written.endsWith(LEAVE_ALT_SCREEN)).toBe(true);
  });

  it('should not touch stdin when it is not a terminal', () => {
    const { dashboard, stdin } = setup();
    stdin.isTTY = false;
    dashboard.start();
    expect(stdin.rawCalls).toEqual([]);
    expect(stdin.listenerCount('data')).toBe(0);
    dashboard.stop();
    expect(stdin.rawCalls).toEqual([]);
  });
});
