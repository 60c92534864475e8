import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { parseListenAddress } from '../env-parsers';
import type { ServerConfig } from '../gateway-config.types';
import type { Settings } from '../loader/settings';
import { area, duration, integer, setting } from './setting';

export const SERVER = area({
  section: 'server',
  title: 'Server',
  settings: {
    listen: setting({
      env: 'GATEWAY_PORT',
      key: 'port',
      description: 'Listen port or address: `9777`, `":9777"`, `"0.0.0.0:9777"`, `"[::]:9777"`.',
      type: 'port or address',
      schema: z.union([z.int().min(0).max(65535), z.string()], {
        error: 'expected a port number or an address such as ":9777" or "127.0.0.1:9777"',
      }),
      parse: (raw) => parseListenAddress(raw),
      default: { host: '0.0.0.0', port: 9777 },
      shownDefault: ':9777',
    }),
    shutdownTimeoutMs: duration({
      env: 'SHUTDOWN_TIMEOUT',
      key: 'shutdown_timeout',
      description: 'Longest time in-flight requests may take to finish on SIGTERM/SIGINT.',
      default: '30s',
      allowZero: true,
    }),
    shutdownDelayMs: duration({
      env: 'SHUTDOWN_DELAY',
      key: 'shutdown_delay',
      description:
        'On SIGTERM, how long /health/ready answers 503 while the listener keeps serving everything, before the drain (SHUTDOWN_TIMEOUT) starts; SIGINT skips it. Lets load balancers stop sending first.',
      default: '0s',
      allowZero: true,
    }),
    keepAliveTimeoutMs: duration({
      env: 'KEEP_ALIVE_TIMEOUT',
      key: 'keep_alive_timeout',
      description:
        'Idle keep-alive timeout for client connections; keep it above load-balancer idle timeouts.',
      default: '65s',
    }),
    headersTimeoutMs: duration({
      env: 'HEADERS_TIMEOUT',
      key: 'headers_timeout',
      description: 'Time a client has to send the complete request head.',
      default: '30s',
    }),
    maxHeaderSize: integer({
      env: 'MAX_HEADER_SIZE',
      key: 'max_header_size',
      description: 'Largest request head (request line + headers) in bytes.',
      min: 1,
      default: 16384,
    }),
    workers: setting({
      env: 'GATEWAY_WORKERS',
      key: 'workers',
      description: 'Worker processes sharing the listen port; `auto` is one per CPU.',
      type: 'integer >= 1 or `auto`',
      schema: z.union([z.int().min(1, { error: 'must be >= 1' }), z.literal('auto')], {
        error: 'expected a number of workers (>= 1) or "auto"',
      }),
      parse: parseWorkers,
      default: 1,
      shownDefault: 1,
    }),
  },
});

export function readServer(settings: Settings): ServerConfig {
  const { listen, ...rest } = settings.values(SERVER.settings);
  return { host: listen.host, port: listen.port, ...rest };
}

/** `GATEWAY_WORKERS`: a count or `auto` (one per CPU the process may use). */
function parseWorkers(raw: string): number {
  if (raw.toLowerCase() === 'auto') {
    return Math.max(1, availableParallelism());
  }
  if (!/^[0-9]+$/.test(raw) || Number(raw) < 1) {
    throw new Error(`expected a number of workers (>= 1) or "auto", got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}
