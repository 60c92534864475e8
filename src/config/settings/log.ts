import { resolve } from 'node:path';
import { z } from 'zod';
import { parseLogLevel } from '../env-parsers';
import type { LogLevel } from '../gateway-config.types';
import { area, setting } from './setting';

export const LOG = area({
  section: 'log',
  title: 'Logs',
  settings: {
    level: setting<LogLevel>({
      env: 'LOG_LEVEL',
      key: 'level',
      description:
        'trace|debug|info|warn|error|fatal|silent; Go names DEBUG/INFO/WARN/WARNING/ERROR are accepted.',
      type: 'log level',
      schema: z.string(),
      parse: parseLogLevel,
      default: 'info',
      shownDefault: 'info',
    }),
    accessLogFile: setting({
      env: 'ACCESS_LOG_FILE',
      key: 'access_log_file',
      description: 'Write access-log lines (JSON) to this file, buffered, instead of stdout.',
      type: 'path',
      schema: z.string(),
      parse: (raw, { cwd }): string | undefined => resolve(cwd, raw),
      default: undefined,
    }),
  },
});
