import { Writable } from 'node:stream';
import pino from 'pino';
import { levelOf, LogDiversion } from './log-diversion';

function capturedLogger(formatLabels: boolean) {
  const written: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      written.push(chunk.toString());
      cb();
    },
  });
  const logger = pino(
    {
      level: 'debug',
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      ...(formatLabels ? { formatters: { level: (label: string) => ({ level: label }) } } : {}),
    },
    sink,
  );
  return { logger, written };
}

describe('LogDiversion', () => {
  it('should keep warnings for the pane, drop lower levels, and replay warnings on restore', () => {
    const { logger, written } = capturedLogger(true);
    const child = logger.child({ component: 'x' });
    const diversion = new LogDiversion(logger);
    diversion.divert();
    expect(diversion.active).toBe(true);
    logger.info('hidden info');
    child.debug('hidden debug');
    logger.warn('first warning');
    child.error({ err: new Error('kaput') }, 'child error');
    expect(written).toEqual([]);
    expect(diversion.hidden).toBe(2);
    const recent = diversion.recent(5);
    expect(recent.map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'first warning'],
      ['error', 'child error: kaput'],
    ]);
    expect(recent[0].time).toMatch(/^\d\d:\d\d:\d\d$/);

    diversion.restore();
    expect(diversion.active).toBe(false);
    const lines = written.map((l) => JSON.parse(l) as { msg: string; hiddenLines?: number });
    expect(lines.map((l) => l.msg)).toEqual([
      'first warning',
      'child error',
      'terminal dashboard closed; lines below warn written while it was up were not shown',
    ]);
    expect(lines[2].hiddenLines).toBe(2);
    logger.info('after');
    expect(written).toHaveLength(4);
  });

  it('should keep only the latest lines', () => {
    const { logger } = capturedLogger(true);
    const diversion = new LogDiversion(logger, 3);
    diversion.divert();
    for (let i = 0; i < 10; i++) {
      logger.warn(`w${i}`);
    }
    expect(diversion.recent(10).map((l) => l.msg)).toEqual(['w7', 'w8', 'w9']);
    diversion.restore();
  });

  it('should read labelled and numeric levels', () => {
    expect(levelOf('{"level":"info","msg":"x"}')).toBe(30);
    expect(levelOf('{"level":50,"msg":"x"}')).toBe(50);
    // Unknown shapes are kept rather than lost.
    expect(levelOf('not json')).toBe(40);
    const { logger } = capturedLogger(false);
    const diversion = new LogDiversion(logger);
    diversion.divert();
    logger.info('numeric info');
    logger.fatal('numeric fatal');
    expect(diversion.hidden).toBe(1);
    expect(diversion.recent(1)[0]).toMatchObject({ level: 'fatal', msg: 'numeric fatal' });
    diversion.restore();
  });
});
