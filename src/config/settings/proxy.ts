import { parseIpList } from '../env-parsers';
import { area, duration, integer, list } from './setting';

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
  },
});
