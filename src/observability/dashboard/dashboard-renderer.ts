import type { SystemSample } from '../system-metrics.types';
import type { CircuitState, TrafficSnapshot, UpstreamTraffic } from '../traffic-stats.types';
import { padEnd, padStart, renderLine, type Segment, type Style } from './ansi';

export const DASHBOARD_TITLE = 'nest-edge-gateway · live dashboard';

export interface DashboardLogLine {
  /** `HH:MM:SS` */
  time: string;
  level: string;
  msg: string;
}

/** Everything one frame shows; built by the dashboard each refresh, rendered by a pure function. */
export interface DashboardView {
  version: string;
  url: string;
  algorithm: string;
  now: Date;
  traffic: TrafficSnapshot;
  /** Latest background sample of host and process; undefined before the first one. */
  system: SystemSample | undefined;
  /** Requests per second, one value per refresh, oldest first. */
  rpsHistory: readonly number[];
  refreshMs: number;
  /** The latest diverted warn+ log lines, oldest first. */
  logs: readonly DashboardLogLine[];
  /** Lower-level log lines dropped while the dashboard was up. */
  hiddenLogLines: number;
}

export interface TerminalSize {
  columns: number;
  rows: number;
}

const SPARK = '▁▂▃▄▅▆▇█';

const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
const fmtRate = (n: number): string => (n >= 100 ? fmtInt(n) : n.toFixed(n >= 10 ? 1 : 2));
const fmtPct = (n: number): string => `${n >= 10 || n === 0 ? n.toFixed(0) : n.toFixed(1)}%`;

function fmtMs(ms: number): string {
  if (ms >= 1000) {
    return `${(ms / 1000).toFixed(2)}s`;
  }
  return `${ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2)}ms`;
}

function fmtBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n.toFixed(0) : n.toFixed(n >= 100 ? 0 : 1)} ${units[i]}`;
}

export function fmtDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) {
    return `${d}d${h}h`;
  }
  if (h > 0) {
    return `${h}h${String(m).padStart(2, '0')}m`;
  }
  return `${m}m${String(s % 60).padStart(2, '0')}s`;
}

const loadStyle = (pct: number): Style => (pct > 80 ? 'red' : pct > 60 ? 'yellow' : 'green');

function bar(pct: number, width: number): Segment[] {
  const filled = Math.round((Math.min(100, Math.max(0, pct)) / 100) * width);
  return [
    ['█'.repeat(filled), loadStyle(pct)],
    ['░'.repeat(width - filled), 'dim'],
  ];
}

/** One block per value, scaled to the largest; time-based because it gets one value per refresh. */
export function sparkline(values: readonly number[], width: number): string {
  const shown = values.slice(-Math.max(0, width));
  const max = Math.max(0, ...shown);
  return shown.map((v) => SPARK[max > 0 ? Math.min(7, Math.floor((v / max) * 7.999)) : 0]).join('');
}

function health(u: UpstreamTraffic): Segment {
  if (u.draining) {
    return ['◐ draining', 'yellow'];
  }
  if (u.ejected) {
    return ['○ ejected', 'red'];
  }
  return u.healthy ? ['● up', 'green'] : ['○ down', 'red'];
}

const circuitStyle = (state: CircuitState): Style =>
  state === 'closed' ? 'green' : state === 'open' ? 'red' : 'yellow';

const levelStyle = (level: string): Style =>
  level === 'warn' ? 'yellow' : level === 'info' ? 'cyan' : 'red';

const label = (text: string): Segment => [padEnd(text, 10), 'bold'];
const kv = (key: string, value: string, style?: Style): Segment[] => [
  [`${key} `, 'dim'],
  style ? [value, style] : [value],
  ['   '],
];

/**
 * Renders one frame as at most `size.rows` lines of at most `size.columns` visible characters.
 * Tables shrink (with a "… n more" row) before anything scrolls, so a redraw from the top-left
 * corner always covers the whole frame.
 */
export function renderDashboard(view: DashboardView, size: TerminalSize, color: boolean): string[] {
  const width = Math.max(20, size.columns);
  const rows = Math.max(1, size.rows);
  const t = view.traffic;
  const lines: Segment[][] = [];

  const clock = view.now.toTimeString().slice(0, 8);
  lines.push([
    [` ${DASHBOARD_TITLE} `, 'inverse'],
    [
      `  v${view.version}  ${view.url}  up ${fmtDuration(t.uptimeSeconds)}  algo ${view.algorithm}  `,
    ],
    [clock, 'dim'],
  ]);
  lines.push([['─'.repeat(width), 'dim']]);

  const r = t.rates;
  lines.push([
    label('REQUESTS'),
    ...kv('total', fmtInt(t.totals.requests)),
    ...kv('req/s', fmtRate(r.requestsPerSecond), 'bold'),
    ...kv('5xx/s', fmtRate(r.errorsPerSecond), r.errorsPerSecond > 0 ? 'red' : undefined),
    ...kv('5xx', fmtInt(t.totals.errors)),
    ...kv('4xx', fmtInt(t.totals.clientErrors)),
    ...kv('429', fmtInt(t.totals.rateLimited)),
  ]);
  const lookups = t.totals.cacheHits + t.totals.cacheMisses;
  lines.push([
    label('CONNS'),
    ...kv('active', fmtInt(t.activeConnections), 'bold'),
    ...kv('in flight', fmtInt(t.inFlight)),
    ...kv(
      'blocked IPs',
      fmtInt(t.totals.blockedIps),
      t.totals.blockedIps > 0 ? 'yellow' : undefined,
    ),
    ...kv('retries', fmtInt(t.totals.retries)),
    ...kv('cache hit', lookups > 0 ? fmtPct((t.totals.cacheHits / lookups) * 100) : '–'),
  ]);
  lines.push([
    label('LATENCY'),
    ...kv('p50', fmtMs(t.latencyMs.p50)),
    ...kv('p90', fmtMs(t.latencyMs.p90)),
    ...kv('p99', fmtMs(t.latencyMs.p99), 'bold'),
    ...kv('max', fmtMs(t.latencyMs.max)),
    ['(last minute)', 'dim'],
  ]);
  const sys = view.system;
  if (sys) {
    const h = sys.host;
    const p = sys.process;
    lines.push([
      label('HOST'),
      ['cpu ', 'dim'],
      [padStart(fmtPct(h.cpuPercent), 4)],
      [' '],
      ...bar(h.cpuPercent, 12),
      ['   '],
      ...kv('load', h.loadAverage.map((l) => l.toFixed(2)).join(' ')),
      ['mem ', 'dim'],
      [`${fmtBytes(h.memory.usedBytes)}/${fmtBytes(h.memory.totalBytes)} `],
      ...bar(h.memory.usedPercent, 12),
    ]);
    lines.push([
      label('PROCESS'),
      ...kv('cpu', fmtPct(p.cpuPercent), loadStyle(p.cpuPercent)),
      ...kv('rss', fmtBytes(p.rssBytes)),
      ...kv('heap', `${fmtBytes(p.heapUsedBytes)}/${fmtBytes(p.heapTotalBytes)}`),
      ...kv('loop p99', fmtMs(p.eventLoop.delayMs.p99)),
      ...kv('loop busy', fmtPct(p.eventLoop.utilization * 100)),
    ]);
  } else {
    lines.push([label('HOST'), ['sampling…', 'dim']]);
  }
  const sparkWidth = Math.max(0, Math.min(120, width - 34));
  const shown = view.rpsHistory.slice(-sparkWidth);
  lines.push([
    label('req/s'),
    [sparkline(shown, sparkWidth), 'cyan'],
    [
      `  last ${Math.round((shown.length * view.refreshMs) / 1000)}s, peak ${fmtRate(Math.max(0, ...shown))}`,
      'dim',
    ],
  ]);
  lines.push([]);

  const footer: Segment[] = [
    [' q ', 'inverse'],
    [' quit dashboard (the gateway keeps running)   ', 'dim'],
    [' Ctrl-C ', 'inverse'],
    [' stop the gateway', 'dim'],
  ];

  // What is left for the tables and the log pane, headers included.
  let budget = rows - lines.length - 1;
  const routeHeader = 1;
  const upstreamHeader = 2;
  const wantLogs = view.logs.length > 0 || view.hiddenLogLines > 0;
  const logHeader = wantLogs ? 2 : 0;
  // An empty route table still takes a row, for its placeholder; routes a bounded snapshot left
  // out take one for their "more" row.
  const want = {
    routes: Math.max(1, t.routes.length + (t.routesOmitted ? 1 : 0)),
    upstreams: t.upstreams.length,
    logs: Math.min(5, view.logs.length),
  };
  const got = { routes: 0, upstreams: 0, logs: 0 };
  const sections: (keyof typeof want)[] = [];
  if (budget >= routeHeader + 1) {
    sections.push('routes');
    budget -= routeHeader;
  }
  if (budget >= upstreamHeader + 2) {
    sections.push('upstreams');
    budget -= upstreamHeader;
  }
  if (wantLogs && budget >= logHeader + 3) {
    sections.push('logs');
    budget -= logHeader;
  }
  // Hand out the remaining rows one at a time so no section starves the others.
  for (let progress = true; budget > 0 && progress;) {
    progress = false;
    for (const s of sections) {
      if (budget > 0 && got[s] < want[s]) {
        got[s]++;
        budget--;
        progress = true;
      }
    }
  }

  if (sections.includes('routes')) {
    const nameW = Math.min(24, Math.max(8, ...t.routes.map((x) => x.name.length)));
    lines.push([
      [
        `${padEnd('ROUTE', nameW)} ${padStart('REQUESTS', 10)} ${padStart('5XX', 7)} ${padStart('5XX%', 6)} ${padStart('P50', 9)} ${padStart('P90', 9)} ${padStart('P99', 9)}`,
        'bold',
      ],
    ]);
    // A bounded snapshot leaves routes out: they go in the "more" row, which needs its line.
    const omitted = t.routesOmitted ?? 0;
    const fits = fitRows(t.routes, omitted > 0 ? Math.max(0, got.routes - 1) : got.routes);
    for (const route of fits.shown) {
      const errPct = route.requests > 0 ? (route.errors / route.requests) * 100 : 0;
      lines.push([
        [
          `${padEnd(route.name, nameW)} ${padStart(fmtInt(route.requests), 10)} ${padStart(fmtInt(route.errors), 7)} `,
        ],
        [padStart(fmtPct(errPct), 6), errPct >= 5 ? 'red' : errPct > 0 ? 'yellow' : undefined],
        [
          ` ${padStart(fmtMs(route.latencyMs.p50), 9)} ${padStart(fmtMs(route.latencyMs.p90), 9)} ${padStart(fmtMs(route.latencyMs.p99), 9)}`,
        ],
      ]);
    }
    if (fits.more + omitted > 0) {
      lines.push([[`… ${fmtInt(fits.more + omitted)} more routes`, 'dim']]);
    }
    if (t.routes.length === 0 && got.routes > 0) {
      lines.push([['(no routes configured)', 'dim']]);
    }
  }

  if (sections.includes('upstreams')) {
    const urlW = Math.min(36, Math.max(12, ...t.upstreams.map((u) => u.url.length)));
    const routeW = Math.min(16, Math.max(8, ...t.upstreams.map((u) => u.route.length)));
    lines.push([]);
    lines.push([
      [
        `${padEnd('UPSTREAM', urlW)} ${padEnd('ROUTE', routeW)} ${padEnd('HEALTH', 10)} ${padEnd('CIRCUIT', 9)} ${padStart('IN-FLT', 6)} ${padStart('REQS', 9)} ${padStart('FAILS', 7)}`,
        'bold',
      ],
    ]);
    const fits = fitRows(t.upstreams, got.upstreams);
    for (const u of fits.shown) {
      const [healthText, healthStyle] = health(u);
      lines.push([
        [`${padEnd(u.url, urlW)} ${padEnd(u.route, routeW)} `],
        [padEnd(healthText, 10), healthStyle],
        [' '],
        [padEnd(u.circuit, 9), circuitStyle(u.circuit)],
        [` ${padStart(fmtInt(u.inFlight), 6)} ${padStart(fmtInt(u.requests), 9)} `],
        [padStart(fmtInt(u.failures), 7), u.failures > 0 ? 'yellow' : undefined],
      ]);
    }
    if (fits.more > 0) {
      lines.push([[`… ${fits.more} more upstreams`, 'dim']]);
    }
  }

  if (sections.includes('logs')) {
    lines.push([]);
    lines.push([
      ['RECENT WARNINGS', 'bold'],
      [
        view.hiddenLogLines > 0
          ? `  (${fmtInt(view.hiddenLogLines)} info/debug lines not shown while the dashboard is up)`
          : '  (info/debug lines are not shown while the dashboard is up)',
        'dim',
      ],
    ]);
    for (const log of view.logs.slice(-got.logs)) {
      lines.push([
        [`${log.time} `, 'dim'],
        [padEnd(log.level.toUpperCase(), 6), levelStyle(log.level)],
        [log.msg],
      ]);
    }
  }

  const out = lines.slice(0, rows - 1).map((segs) => renderLine(segs, width, color));
  // The key help sits on the bottom line, where it stays put as the tables grow.
  while (out.length < rows - 1) {
    out.push('');
  }
  out.push(renderLine(footer, width, color));
  return out.slice(0, rows);
}

/** Up to `room` rows: all of them, or `room - 1` and a "… n more" row. */
function fitRows<T>(items: readonly T[], room: number): { shown: readonly T[]; more: number } {
  if (items.length <= room) {
    return { shown: items, more: 0 };
  }
  const shown = items.slice(0, Math.max(0, room - 1));
  return { shown, more: items.length - shown.length };
}
