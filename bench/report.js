'use strict';
// Turning runs into figures: medians over rounds, ratios between targets, the printed table,
// the machine description and the JSON file in bench/results/.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const REFERENCES = [
  { id: 'direct', column: 'vs direct' },
  { id: 'nginx', column: 'vs nginx' },
  { id: 'fast-gateway', column: 'vs fast-gw' },
  // The proxied full pipeline: the cache HIT target's ratio to it is issue 3's ">= 2x".
  { id: 'gateway-full', column: 'vs full' },
];

function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) {
    return null;
  }
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/**
 * Summary of one target's runs in one phase. Each metric is the median over rounds on its
 * own (the median run for req/s need not be the median run for p99); RSS is the peak seen.
 */
function summarize(runs) {
  const errors = runs.reduce(
    (n, r) => n + Object.values(r.load.errors).reduce((a, b) => a + b, 0),
    0,
  );
  return {
    rounds: runs.length,
    rps: median(runs.map((r) => r.load.rps)),
    rpsMin: Math.min(...runs.map((r) => r.load.rps)),
    rpsMax: Math.max(...runs.map((r) => r.load.rps)),
    p50Ms: median(runs.map((r) => r.load.latencyMs.p50)),
    p99Ms: median(runs.map((r) => r.load.latencyMs.p99)),
    cpuUsPerReq: median(runs.map((r) => r.proxy && r.proxy.cpuUsPerReq)),
    cpuPercent: median(runs.map((r) => r.proxy && r.proxy.cpuPercent)),
    upstreamCpuPercent: median(runs.map((r) => r.upstream.cpuPercent)),
    rssMb: runs.some((r) => r.proxy)
      ? Math.max(...runs.map((r) => (r.proxy ? r.proxy.rssMb : 0)))
      : null,
    otherCpuPercentMax: Math.max(...runs.map((r) => r.otherCpuPercent)),
    errors,
  };
}

function ratios(summaries, id) {
  const own = summaries[id];
  const out = {};
  for (const ref of REFERENCES) {
    const other = summaries[ref.id];
    out[ref.id] = own && other && other.rps ? own.rps / other.rps : null;
  }
  return out;
}

const fmt = {
  int: (x) => (x === null ? '-' : Math.round(x).toLocaleString('en-US')),
  ms: (x) => (x === null ? '-' : x.toFixed(2)),
  one: (x) => (x === null ? '-' : x.toFixed(1)),
  ratio: (x) => (x === null ? '-' : x.toFixed(2)),
};

function renderTable(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  // First column left-aligned (names), the rest right-aligned (numbers).
  const line = (cells) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Markdown version of the same table, for docs/benchmarks.md. */
function renderMarkdown(headers, rows) {
  const align = headers.map((_, i) => (i === 0 ? '---' : '---:'));
  return [headers, align, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

function throughputTable(targets, summaries) {
  const headers = [
    'target',
    'req/s',
    'p50 ms',
    'p99 ms',
    'RSS MB',
    'CPU µs/req',
    'proxy CPU%',
    'upstream CPU%',
    ...REFERENCES.map((r) => r.column),
  ];
  const rows = targets.map((t) => {
    const s = summaries[t.id];
    const r = ratios(summaries, t.id);
    return [
      t.label + (s.errors ? ' (!)' : ''),
      fmt.int(s.rps),
      fmt.ms(s.p50Ms),
      fmt.ms(s.p99Ms),
      fmt.one(s.rssMb),
      fmt.one(s.cpuUsPerReq),
      fmt.int(s.cpuPercent),
      fmt.int(s.upstreamCpuPercent),
      ...REFERENCES.map((ref) => fmt.ratio(r[ref.id])),
    ];
  });
  return { headers, rows };
}

function fixedRateTable(targets, summaries) {
  const nginx = summaries.nginx;
  const headers = ['target', 'achieved req/s', 'p50 ms', 'p99 ms', 'p99 - nginx p99', 'CPU µs/req'];
  const rows = targets.map((t) => {
    const s = summaries[t.id];
    const delta = nginx && s.p99Ms !== null && nginx.p99Ms !== null ? s.p99Ms - nginx.p99Ms : null;
    return [
      t.label + (s.errors ? ' (!)' : ''),
      fmt.int(s.rps),
      fmt.ms(s.p50Ms),
      fmt.ms(s.p99Ms),
      delta === null ? '-' : `${delta >= 0 ? '+' : ''}${delta.toFixed(2)}`,
      fmt.one(s.cpuUsPerReq),
    ];
  });
  return { headers, rows };
}

// Version banners: nginx -v prints to stderr, wrk --version exits 1; take whatever came out.
function versionOf(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
  const text = `${r.stdout || ''}${r.stderr || ''}`.trim();
  return text ? text.split('\n')[0] : null;
}

function machineInfo(plan, loader, nginxBin) {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo);
  return {
    cpus: plan.cpus,
    cpuModel: model ? model[1].trim() : os.cpus()[0]?.model || 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    nginx: nginxBin ? versionOf(nginxBin, ['-v']) : null,
    loadGenerator:
      loader.tool === 'wrk'
        ? versionOf(loader.bin, ['--version']) || 'wrk'
        : `autocannon ${require('autocannon/package.json').version}`,
    pinning: plan.pinned
      ? `proxy on CPU ${plan.proxyCpu}; load generator and upstream on CPU ${plan.loadCpu}`
      : 'none (fewer than 2 CPUs or no taskset)',
  };
}

function writeResults(result) {
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = path.join(dir, `${stamp}.json`);
  fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

module.exports = {
  fixedRateTable,
  machineInfo,
  median,
  ratios,
  renderMarkdown,
  renderTable,
  summarize,
  throughputTable,
  writeResults,
};
