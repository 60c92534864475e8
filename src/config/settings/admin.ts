import { z } from 'zod';
import { parseListenAddress } from '../env-parsers';
import type { AdminConfig } from '../gateway-config.types';
import type { Report } from '../loader/report';
import { type Settings, withDefined } from '../loader/settings';
import { area, setting, text } from './setting';

export const ADMIN = area({
  section: 'admin',
  title: 'Admin API',
  settings: {
    token: text({
      env: 'ADMIN_TOKEN',
      key: 'token',
      description:
        'Bearer token (at least 32 characters) for the admin API; the admin API is off without it. Secret: prefer the ADMIN_TOKEN environment variable.',
      trim: false,
    }),
    listen: setting({
      env: 'ADMIN_PORT',
      key: 'port',
      description:
        'Separate listener for admin, docs, metrics and monitor; a bare port binds 127.0.0.1.',
      type: 'port or address',
      schema: z.union([z.int().min(1).max(65535), z.string()], {
        error: 'expected a port number or an address such as "127.0.0.1:9778"',
      }),
      parse: (raw): { host: string; port: number } | undefined =>
        parseListenAddress(raw, '127.0.0.1'),
      default: undefined,
    }),
  },
});

/** The admin API is off without a token; a short one is refused rather than silently weak. */
export function readAdmin(settings: Settings, report: Report): AdminConfig {
  const token = settings.value(ADMIN.settings.token);
  const source = settings.raw(ADMIN.settings.token.env, { trim: false });
  if (token !== undefined && source !== undefined) {
    if (token.length < 32) {
      report.problem(
        source.label,
        'shorter than 32 characters; use a random token (e.g. `openssl rand -hex 32`)',
      );
    }
    if (source.label !== ADMIN.settings.token.env) {
      report.warn(
        `${source.label}: secrets belong in the ADMIN_TOKEN environment variable, not the config file`,
      );
    }
  }
  const listen = settings.value(ADMIN.settings.listen);
  return { ...withDefined('token', token), ...withDefined('listen', listen) };
}
