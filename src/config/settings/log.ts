import { resolve } from 'node:path';
import { z } from 'zod';
import { parseAccessLogFields, parseLogLevel, parseRedactParams } from '../env-parsers';
import {
  ACCESS_LOG_FIELDS,
  DEFAULT_REDACTED_PARAMS,
  type AccessLogField,
  type LogLevel,
} from '../gateway-config.types';
import { area, list, setting } from './setting';

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
    accessLogFields: list<AccessLogField>({
      env: 'ACCESS_LOG_FIELDS',
      key: 'access_log_fields',
      description: `Fields of each access-log line (level, time and msg are always written), or \`all\`: ${ACCESS_LOG_FIELDS.join(', ')}. Case-insensitive; \`_\` and \`-\` are ignored (\`user_agent\`).`,
      type: 'list of field names',
      parse: parseAccessLogFields,
      default: ['all'],
    }),
    accessLogRedactParams: list({
      env: 'ACCESS_LOG_REDACT_PARAMS',
      key: 'access_log_redact_params',
      description:
        "Query parameters whose values access-log lines mask as `[REDACTED]`, in the query and in the referer's query: names compared case-insensitively after percent-decoding, a bracketed name (`user[password]`) by its parts; `none` masks nothing.",
      parse: parseRedactParams,
      default: DEFAULT_REDACTED_PARAMS,
    }),
  },
});
