import { DEFAULT_STRIP_CLIENT_HEADERS } from '../../common/http/forwarding-headers';
import { parseHeaderNames, parseIpList } from '../env-parsers';
import { area, boolean, duration, integer, list } from './setting';

export const PROXY = area({
  section: 'proxy',
  title: 'Proxy',
  settings: {
    connectionTimeoutMs: duration({
      env: 'CONNECTION_TIMEOUT',
      key: 'connection_timeout',
      description:
        'Default route timeout: time for an upstream to answer headers, and between body chunks.',
      default: '30s',
    }),
    connectTimeoutMs: duration({
      env: 'UPSTREAM_CONNECT_TIMEOUT',
      key: 'upstream_connect_timeout',
      description: 'Time allowed to open a TCP/TLS connection to an upstream.',
      default: '5s',
    }),
    maxIdleConns: integer({
      env: 'MAX_IDLE_CONNS',
      key: 'max_idle_conns',
      description: 'Idle sockets kept per upstream pool.',
      min: 0,
      default: 100,
    }),
    idleConnTimeoutMs: duration({
      env: 'IDLE_CONN_TIMEOUT',
      key: 'idle_conn_timeout',
      description: 'How long an idle upstream socket is kept.',
      default: '90s',
    }),
    trustedProxies: list({
      env: 'TRUSTED_PROXIES',
      key: 'trusted_proxies',
      description: 'IPs or CIDRs whose X-Forwarded-For/-Proto/-Host headers are believed.',
      type: 'IP/CIDR list',
      parse: parseIpList,
      default: [],
    }),
    maxInFlight: integer({
      env: 'MAX_IN_FLIGHT',
      key: 'max_in_flight',
      description:
        'Proxied requests in progress at once before new ones are answered 503 (overload).',
      min: 1,
      default: 10000,
    }),
    allowUnderscoreHeaders: boolean({
      env: 'ALLOW_UNDERSCORE_HEADERS',
      key: 'allow_underscore_headers',
      description:
        'Forward request headers whose names contain "_" (dropped by default, as nginx and Kong do). Names that fold onto a header the gateway sets, strips, keys on or reads credentials from are dropped even then.',
      default: false,
    }),
    stripClientHeaders: list({
      env: 'STRIP_CLIENT_HEADERS',
      key: 'strip_client_headers',
      description:
        'Request headers removed from clients outside TRUSTED_PROXIES ("none" for none): forwarding headers the gateway does not set itself. Those a trusted proxy or this list lets through are part of the cache key (a method override is never cached).',
      type: 'header-name list',
      parse: parseHeaderNames,
      default: DEFAULT_STRIP_CLIENT_HEADERS,
    }),
    websocketIdleTimeoutMs: duration({
      env: 'WEBSOCKET_IDLE_TIMEOUT',
      key: 'websocket_idle_timeout',
      description:
        'An upgraded WebSocket with no bytes in either direction for this long is closed; 0 never closes it.',
      allowZero: true,
      default: '5m',
    }),
    websocketMaxPerIp: integer({
      env: 'WEBSOCKET_MAX_PER_IP',
      key: 'websocket_max_per_ip',
      description:
        'Open WebSockets one client (one IPv4 address, one IPv6 /64 by default) may hold; more are answered 429; 0 means no cap.',
      min: 0,
      default: 256,
    }),
  },
});
