import pino, { type Logger } from 'pino';
import type { LogConfig } from '../config/gateway-config.types';

/**
 * JSON to stdout; pretty only when a human is watching a terminal, so containers and files always
 * get one parseable line per event.
 */
export function createRootLogger(config: LogConfig): Logger {
  const options: pino.LoggerOptions = {
    level: config.level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  if (config.pretty) {
    // Loaded lazily: production images never need it on the require path.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pretty = require('pino-pretty') as typeof import('pino-pretty');
    return pino(options, pretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l' }));
  }
  return pino(options);
}
