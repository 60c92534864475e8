'use strict';
// Soak: the built gateway (dist/main.js) as its own process under a steady, bounded load for
// SOAK_SECONDS (600 by default), mixing proxied calls, cacheable calls (cache hits once
// ENABLE_CACHING does something), authentication failures and rate-limited 429s. Every
// SOAK_SAMPLE_SECONDS it samples the gateway's RSS (/proc) and event-loop lag (/metrics), then
// fits a least-squares line over the second half (after warm-up) to tell a leak from noise.
//
// Usage: npm run soak            (SOAK_SECONDS=120 npm run soak for a short run)
// Env:   SOAK_SECONDS, SOAK_RPS (target request rate, default 400), SOAK_CONNECTIONS (default 32),
//        SOAK_SAMPLE_SECONDS (default 5), SOAK_OUT (JSON results file, default bench/results/soak-<ts>.json)
// Traffic goes only to 127.0.0.1; every loop ends at the deadline.

const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const net = require('node:net');
const { spawn } = require('node:child_process');
const { performance } = require('node:perf_hooks');

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const RPS = Number(process.env.SOAK_RPS ?? 400);
const CONNECTIONS = Number(process.env.SOAK_CONNECTIONS ?? 32);
const SAMPLE_SECONDS = Number(process.env.SOAK_SAMPLE_SECONDS ?? 5);
const MAIN = path.join(__dirname, '..', 'dist', 'main.js');
const JWT_SECRET = 'soak-secret-0123456789-0123456789-abcdef';

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function startUpstream() {
  const body = Buffer.from(JSON.stringify({ ok: true, padding: 'x'.repeat(64) }));
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const headers = { 'content-type': 'application/json', 'content-length': body.length };
      if (req.url.startsWith('/cacheable')) {
        headers['cache-control'] = 'public, max-age=30';
      }
      res.writeHead(200, headers);
      res.end(body);
    });
  });
  server.keepAliveTimeout = 120_000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function readRssMiB(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+)/m.exec(status)[1]) / 1024;
}

function metric(text, name) {
  const m = new RegExp(`^${name} ([0-9.eE+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

function get(agent, port, reqPath, headers) {
  return new Promise((resolve) => {
    const started = performance.now();
    const req = http.request({ host: '127.0.0.1', port, path: reqPath, agent, headers }, (res) => {
      let cache = res.headers['x-cache'] ?? res.headers['x-cache-status'];
      res.resume();
      res.on('end', () =>
        resolve({ status: res.statusCode, ms: performance.now() - started, cache }),
      );
      res.on('error', () => resolve({ status: 0, ms: performance.now() - started }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('client timeout')));
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started }));
    req.end();
  });
}

function getText(port, reqPath) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: reqPath, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve(text));
      res.on('error', reject);
    });
    req.setTimeout(5_000, () => req.destroy(new Error('metrics timeout')));
    req.on('error', reject);
  });
}

/** Least-squares slope of y over x. */
function slope(xs, ys) {
  const n = xs.length;
  if (n < 2) {
    return NaN;
  }
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const percentile = (sorted, p) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

async function main() {
  if (!fs.existsSync(MAIN)) {
    throw new Error(`${MAIN} is missing: run npm run build first`);
  }
  const upstream = await startUpstream();
  const upUrl = `http://127.0.0.1:${upstream.address().port}`;
  const port = await freePort();
  const routes = [
    { name: 'api', prefix: '/api', target_url: upUrl, strip_prefix: true },
    { name: 'cached', prefix: '/cacheable', target_url: upUrl, strip_prefix: false },
    { name: 'secure', prefix: '/secure', target_url: upUrl, require_auth: true },
    { name: 'limited', prefix: '/limited', target_url: upUrl, rate_limit: { rate: 5, burst: 5 } },
  ];
  const child = spawn(process.execPath, [MAIN], {
    cwd: path.join(__dirname, '..', 'test'),
    env: {
      PATH: process.env.PATH ?? '',
      GATEWAY_PORT: `127.0.0.1:${port}`,
      SERVICE_ROUTES: JSON.stringify(routes),
      JWT_SECRET,
      ENABLE_CACHING: 'true',
      CACHE_TTL: '30s',
      MAX_REQUESTS_PER_SECOND: '1000000',
      MAX_BURST_SIZE: '1000000',
      DDOS_THRESHOLD: '100000000',
      LOG_LEVEL: 'warn',
      NO_DASHBOARD: '1',
      DEMO_UPSTREAM: 'false',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c.toString()));
  const exited = new Promise((r) => child.once('exit', (code, sig) => r(code ?? sig)));
  const ready = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`gateway exited: ${stderr}`);
    }
    const r = await get(false, port, '/health', {});
    if (r.status === 200) {
      break;
    }
    if (Date.now() > ready) {
      child.kill('SIGKILL');
      throw new Error(`gateway not ready: ${stderr}`);
    }
    await sleep(100);
  }

  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const kinds = [
    // [name, share, path, headers]
    ['proxied', 0.55, () => `/api/items/${Math.floor(Math.random() * 1000)}`, {}],
    ['cacheable', 0.2, () => `/cacheable/item/${Math.floor(Math.random() * 20)}`, {}],
    ['auth-fail', 0.15, () => '/secure/me', { authorization: 'Bearer not.a.jwt' }],
    ['limited', 0.1, () => '/limited/x', {}],
  ];
  const pick = () => {
    let r = Math.random();
    for (const k of kinds) {
      if ((r -= k[1]) < 0) {
        return k;
      }
    }
    return kinds[0];
  };
  const stats = {};
  for (const [name] of kinds) {
    stats[name] = { count: 0, statuses: {}, latencies: [], cacheHits: 0 };
  }
  const startedAt = Date.now();
  const deadline = startedAt + SECONDS * 1000;
  const perWorkerIntervalMs = (1000 * CONNECTIONS) / RPS;
  const workers = Array.from({ length: CONNECTIONS }, async () => {
    let next = performance.now() + Math.random() * perWorkerIntervalMs;
    while (Date.now() < deadline) {
      const [name, , p, headers] = pick();
      const r = await get(agent, port, p(), headers);
      const s = stats[name];
      s.count++;
      s.statuses[r.status] = (s.statuses[r.status] ?? 0) + 1;
      // Reservoir of latencies: keep memory of the load generator itself bounded.
      if (s.latencies.length < 200_000) {
        s.latencies.push(r.ms);
      }
      if (typeof r.cache === 'string' && /hit/i.test(r.cache)) {
        s.cacheHits++;
      }
      next += perWorkerIntervalMs;
      const wait = next - performance.now();
      if (wait > 0) {
        await sleep(wait);
      } else if (wait < -1000) {
        next = performance.now(); // fell behind (slow machine): do not burst to catch up
      }
    }
  });

  const samples = [];
  const sampler = (async () => {
    while (Date.now() < deadline) {
      await sleep(SAMPLE_SECONDS * 1000);
      if (child.exitCode !== null) {
        break;
      }
      let lag = NaN;
      let lagP99 = NaN;
      let heap = NaN;
      try {
        const text = await getText(port, '/metrics');
        lag = metric(text, 'nodejs_eventloop_lag_seconds') * 1000;
        lagP99 = metric(text, 'nodejs_eventloop_lag_p99_seconds') * 1000;
        heap = metric(text, 'nodejs_heap_size_used_bytes') / 1024 / 1024;
      } catch {
        // metrics unavailable this round: RSS is still sampled
      }
      const sample = {
        t: (Date.now() - startedAt) / 1000,
        rssMiB: readRssMiB(child.pid),
        heapMiB: heap,
        lagMs: lag,
        lagP99Ms: lagP99,
      };
      samples.push(sample);
      process.stderr.write(
        `t=${sample.t.toFixed(0)}s rss=${sample.rssMiB.toFixed(1)}MiB heap=${heap.toFixed(1)}MiB ` +
          `lag=${lag.toFixed(2)}ms lagP99=${lagP99.toFixed(2)}ms\n`,
      );
    }
  })();

  await Promise.all([...workers, sampler]);
  agent.destroy();
  const crashed = child.exitCode !== null;
  child.kill('SIGTERM');
  const exitCode = await exited;
  upstream.closeAllConnections();
  upstream.close();

  const second = samples.filter((s) => s.t >= SECONDS / 2);
  const minutes = (xs) => xs.map((s) => s.t / 60);
  const fit = (key) => {
    const pts = second.filter((s) => Number.isFinite(s[key]));
    return slope(
      minutes(pts),
      pts.map((s) => s[key]),
    );
  };
  const mean = (key) => {
    const pts = second.filter((s) => Number.isFinite(s[key]));
    return pts.reduce((a, s) => a + s[key], 0) / pts.length;
  };
  const rssSlope = fit('rssMiB');
  const heapSlope = fit('heapMiB');
  const lagSlope = fit('lagMs');
  const meanRss = mean('rssMiB');
  const halfMinutes = SECONDS / 2 / 60;
  // A leak shows as RSS rising steadily: more than 5% of the mean (or 5 MiB) over the second half.
  const rssGrowth = rssSlope * halfMinutes;
  const growthTrend = rssGrowth > Math.max(5, meanRss * 0.05);
  const total = Object.values(stats).reduce((a, s) => a + s.count, 0);
  const summary = {
    command: 'npm run soak',
    seconds: SECONDS,
    targetRps: RPS,
    connections: CONNECTIONS,
    achievedRps: Math.round(total / SECONDS),
    totalRequests: total,
    exitCode,
    crashed,
    kinds: Object.fromEntries(
      Object.entries(stats).map(([name, s]) => {
        const sorted = s.latencies.sort((a, b) => a - b);
        return [
          name,
          {
            count: s.count,
            statuses: s.statuses,
            cacheHits: s.cacheHits,
            p50Ms: Number(percentile(sorted, 0.5).toFixed(2)),
            p99Ms: Number(percentile(sorted, 0.99).toFixed(2)),
          },
        ];
      }),
    ),
    rss: {
      firstMiB: samples[0]?.rssMiB,
      maxMiB: Math.max(...samples.map((s) => s.rssMiB)),
      lastMiB: samples.at(-1)?.rssMiB,
      secondHalfMeanMiB: Number(meanRss.toFixed(1)),
      secondHalfSlopeMiBPerMin: Number(rssSlope.toFixed(3)),
      secondHalfGrowthMiB: Number(rssGrowth.toFixed(2)),
    },
    heap: { secondHalfSlopeMiBPerMin: Number(heapSlope.toFixed(3)) },
    eventLoopLag: {
      secondHalfMeanMs: Number(mean('lagMs').toFixed(2)),
      maxP99Ms: Math.max(...samples.map((s) => s.lagP99Ms).filter(Number.isFinite)),
      secondHalfSlopeMsPerMin: Number(lagSlope.toFixed(4)),
    },
    growthTrend,
    samples,
  };
  const out =
    process.env.SOAK_OUT ??
    path.join(__dirname, 'results', `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(summary, null, 2));
  const printed = { ...summary, samples: `${samples.length} samples in ${out}` };
  process.stdout.write(`${JSON.stringify(printed, null, 2)}\nfull results: ${out}\n`);
  const failed = Object.values(stats).some((s) => (s.statuses[0] ?? 0) > 0);
  process.exitCode = crashed || growthTrend || failed ? 1 : 0;
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
