import pino, { type Logger } from 'pino';
import type { LogConfig } from '../config/gateway-config.types';
import { LogWriter } from './log-writer';

export interface RootLoggerOptions {
  /** Other processes write to the same stdout (GATEWAY_WORKERS > 1): see LogWriter. */
  sharedPipe?: boolean;
}

/**
 * JSON to stdout through a batched, bounded LogWriter (the access log goes through the same
 * writer, so every line keeps its order); pretty, and synchronous, only when a human is watching
 * a terminal. Containers and files always get one parseable line per event.
 */
export function createRootLogger(config: LogConfig, options: RootLoggerOptions = {}): Logger {
  const pinoOptions: pino.LoggerOptions = {
    level: config.level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  if (config.pretty) {
    // Loaded lazily: production images never need it on the require path.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pretty = require('pino-pretty') as typeof import('pino-pretty');
    return pino(pinoOptions, pretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l' }));
  }
  const writer = LogWriter.toStdout({
    sharedPipe: options.sharedPipe,
    // Logged through the same writer once it has room again, so the gap shows where it was.
    onDropsEnded: (dropped) =>
      logger.warn(
        { droppedLines: dropped },
        'stdout could not keep up: log lines were dropped (log_lines_dropped_total)',
      ),
  });
  const logger = pino(pinoOptions, writer);
  return logger;
}

/** The LogWriter a logger (or any of its children) writes to, if it is one. */
export function logWriterOf(logger: Logger): LogWriter | undefined {
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym];
  return stream instanceof LogWriter ? stream : undefined;
}
