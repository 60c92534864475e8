'use strict';
// `npm run bench:routes`: admin route changes and config reloads on a large route table, under
// steady traffic. How long each takes to apply, and what the other requests' latency does
// meanwhile (issue 26: apply within 1 s, p99 of other requests under 50 ms).
//
// The gateway (dist/main.js, pinned on the proxy core as in `npm run bench`) starts with
// BENCH_ROUTES (20,000) prefix routes `/svcN/v4` and `/bench` in a GATEWAY_CONFIG file
// (BENCH_ROUTES_FORMAT json or yaml; admin changes are written back into it). This process, on
// the load core, sends GET /bench/item at BENCH_ROUTES_RATE (1,000) req/s over 20 keep-alive
// connections and times each request. Rounds of: POST a route, PUT it, DELETE it, then edit the
// file (one route changed, one added) and POST /admin/config/reload. Each operation is timed
// from sending it to (a) its answer and (b) the first request that shows it applied, and the
// background requests started in that window are its "during" latencies.
//
// Options: BENCH_ROUTES (20000), BENCH_ROUTES_ROUNDS (3), BENCH_ROUTES_RATE (1000),
// BENCH_ROUTES_FORMAT (json|yaml).

const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const { performance } = require('node:perf_hooks');
const path = require('node:path');
const { stringify } = require('yaml');
const {
  cpuPlan,
  freePort,
  installCleanupHandlers,
  outputOf,
  pinnedCommand,
  sleep,
  startChild,
  stopAll,
  waitForHttp,
} = require('./processes');

const REPO_ROOT = path.join(__dirname, '..');
const TOKEN = 'bench-admin-token-0123456789abcdef0123456789';
const CONNECTIONS = 20;
const log = (msg) => process.stdout.write(`${msg}\n`);

function intFromEnv(name, fallback) {
  const value = Number(process.env[name] || fallback);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${name} must be a positive integer`);
  }
  return value;
}

function percentile(sorted, q) {
  if (sorted.length === 0) {
    return NaN;
  }
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

function summary(latencies) {
  const s = latencies.slice().sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 0.5), p99: percentile(s, 0.99), max: s.at(-1) ?? NaN };
}

const fmt = (ms) => (Number.isNaN(ms) ? '-' : `${ms.toFixed(1)}`);

/** One request on `agent`; resolves with status and body. */
function request(port, agent, method, urlPath, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: urlPath,
        agent,
        headers: {
          ...headers,
          ...(payload ? { 'content-type': 'application/json' } : {}),
          'content-length': String(payload ? payload.length : 0),
        },
        timeout: 30_000,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath}: timeout`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * Paced GETs of /bench/item over keep-alive connections until `control.until`; every request's
 * scheduled start and latency.
 */
function backgroundLoad(port, rate, control) {
  const samples = [];
  let errors = 0;
  const intervalMs = (CONNECTIONS * 1000) / rate;
  const workers = Array.from({ length: CONNECTIONS }, async (_, i) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let next = performance.now() + (i * intervalMs) / CONNECTIONS;
    while (performance.now() < control.until) {
      const wait = next - performance.now();
      if (wait > 0) {
        await sleep(wait);
      }
      // Scheduled start: a request held up behind a stall counts the time it waited to be sent.
      const start = next;
      next += intervalMs;
      try {
        const res = await request(port, agent, 'GET', '/bench/item');
        if (res.status !== 200) {
          errors++;
        }
      } catch {
        errors++;
      }
      samples.push({ start, ms: performance.now() - start });
    }
    agent.destroy();
  });
  return { samples, errors: () => errors, done: Promise.all(workers) };
}

/** Polls `urlPath` until `ok(status)`; the time it first did. */
async function firstSeen(port, urlPath, ok, deadline) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    while (performance.now() < deadline) {
      const res = await request(port, agent, 'GET', urlPath).catch(() => ({ status: 0 }));
      if (ok(res.status)) {
        return performance.now();
      }
      await sleep(5);
    }
    return NaN;
  } finally {
    agent.destroy();
  }
}

function writeConfig(file, format, routes) {
  const doc = { routes };
  fs.writeFileSync(file, format === 'yaml' ? stringify(doc) : JSON.stringify(doc));
}

async function main() {
  const count = intFromEnv('BENCH_ROUTES', 20_000);
  const rounds = intFromEnv('BENCH_ROUTES_ROUNDS', 3);
  const rate = intFromEnv('BENCH_ROUTES_RATE', 1000);
  const format = process.env.BENCH_ROUTES_FORMAT || 'json';
  if (!['json', 'yaml'].includes(format)) {
    throw new Error('BENCH_ROUTES_FORMAT must be json or yaml');
  }
  const plan = cpuPlan();
  setTimeout(
    () => {
      process.stderr.write('bench:routes: overran its time, giving up\n');
      process.exit(1);
    },
    (120 + rounds * 60) * 1000,
  ).unref();
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-routes-'));
  const removeTmp = () => fs.rmSync(tmpDir, { recursive: true, force: true });
  installCleanupHandlers(removeTmp);
  const auth = { authorization: `Bearer ${TOKEN}` };
  try {
    const upstreamPort = await freePort();
    const upCmd = pinnedCommand(plan, plan.loadCpu, process.execPath, [
      path.join(__dirname, 'upstream.js'),
      String(upstreamPort),
    ]);
    const upstream = startChild('upstream', { ...upCmd, env: process.env, cwd: REPO_ROOT });
    const target = `http://127.0.0.1:${upstreamPort}`;
    await waitForHttp(upstream, `${target}/`, 10_000);

    const routes = Array.from({ length: count }, (_, i) => ({
      name: `svc${i}`,
      prefix: `/svc${i}/v4`,
      target_url: target,
    }));
    routes.push({ name: 'bench', prefix: '/bench', target_url: target });
    const file = path.join(tmpDir, `gateway.${format}`);
    writeConfig(file, format, routes);

    const port = await freePort();
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      GATEWAY_CONFIG: file,
      GATEWAY_PORT: `127.0.0.1:${port}`,
      ADMIN_TOKEN: TOKEN,
      LOG_LEVEL: 'info',
      NO_DASHBOARD: '1',
      DEMO_UPSTREAM: 'false',
      ENABLE_CACHING: 'false',
      MAX_REQUESTS_PER_SECOND: '1000000',
      MAX_BURST_SIZE: '1000000',
      DDOS_THRESHOLD: '100000000',
    };
    const started = performance.now();
    const gwCmd = pinnedCommand(plan, plan.proxyCpu, process.execPath, [
      path.join(REPO_ROOT, 'dist', 'main.js'),
    ]);
    const gateway = startChild('gateway', { ...gwCmd, env, cwd: REPO_ROOT });
    try {
      await waitForHttp(gateway, `http://127.0.0.1:${port}/health`, 60_000);
    } catch (err) {
      err.message += `\n${outputOf(gateway).slice(-3000)}`;
      throw err;
    }
    log(
      `${count} prefix routes (${format} file), ready in ${Math.round(performance.now() - started)} ms; ` +
        `background ${rate} req/s over ${CONNECTIONS} connections; gateway on CPU ${plan.proxyCpu ?? 'any'}`,
    );

    const adminAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const admin = (method, urlPath, body) =>
      request(port, adminAgent, method, urlPath, body, auth).then((res) => {
        if (res.status >= 300) {
          throw new Error(
            `${method} ${urlPath}: ${res.status} ${res.body.toString().slice(0, 300)}`,
          );
        }
        return res;
      });

    // Warm-up traffic, then the measured run.
    await backgroundLoad(port, rate, { until: performance.now() + 3000 }).done;
    const control = { until: Infinity };
    const load = backgroundLoad(port, rate, control);
    const ops = [];
    const timeOp = async (label, send, check) => {
      const t0 = performance.now();
      const seen = firstSeen(port, check.path, check.ok, t0 + 20_000);
      await send();
      const answered = performance.now();
      const applied = await seen;
      ops.push({ label, t0, answered, applied });
      log(
        `  ${label}: answered in ${fmt(answered - t0)} ms, applied (first request that shows it) ` +
          `in ${fmt(applied - t0)} ms`,
      );
      await sleep(1500);
    };
    await sleep(2000);
    for (let r = 1; r <= rounds; r++) {
      const name = `added${r}`;
      await timeOp(
        `round ${r}: POST /admin/routes`,
        () => admin('POST', '/admin/routes', { name, prefix: `/${name}`, target_url: target }),
        { path: `/${name}/x`, ok: (s) => s === 200 },
      );
      await timeOp(
        `round ${r}: PUT /admin/routes/${name}`,
        () => admin('PUT', `/admin/routes/${name}`, { prefix: `/${name}b`, target_url: target }),
        { path: `/${name}b/x`, ok: (s) => s === 200 },
      );
      await timeOp(
        `round ${r}: DELETE /admin/routes/${name}`,
        () => admin('DELETE', `/admin/routes/${name}`),
        { path: `/${name}b/x`, ok: (s) => s === 404 },
      );
      // The file as the admin changes left it, with one route moved and one added.
      routes[r] = { ...routes[r], prefix: `/moved${r}/v4` };
      routes.push({ name: `reloaded${r}`, prefix: `/reloaded${r}`, target_url: target });
      writeConfig(file, format, routes);
      await timeOp(
        `round ${r}: POST /admin/config/reload`,
        () => admin('POST', '/admin/config/reload'),
        { path: `/reloaded${r}/x`, ok: (s) => s === 200 },
      );
    }
    await sleep(1000);
    const endAt = performance.now();
    const baselineStart = ops[0].t0 - 2000;
    control.until = 0;
    await load.done;
    const samples = load.samples;
    const during = (op) =>
      samples
        .filter((s) => s.start >= op.t0 && s.start <= Math.max(op.answered, op.applied || 0))
        .map((s) => s.ms);
    log('\nlatency of the background requests (ms), started while each operation ran:');
    log('  operation                                 applied   answered   n     p50    p99    max');
    for (const op of ops) {
      const s = summary(during(op));
      log(
        `  ${op.label.padEnd(40)} ${fmt(op.applied - op.t0).padStart(8)} ${fmt(op.answered - op.t0).padStart(10)}` +
          ` ${String(s.n).padStart(5)} ${fmt(s.p50).padStart(6)} ${fmt(s.p99).padStart(6)} ${fmt(s.max).padStart(6)}`,
      );
    }
    const all = summary(
      samples.filter((s) => s.start >= baselineStart && s.start <= endAt).map((s) => s.ms),
    );
    const quiet = summary(
      samples.filter((s) => s.start < ops[0].t0 && s.start >= baselineStart).map((s) => s.ms),
    );
    const allDuring = summary(ops.flatMap(during));
    log(
      `\n  before any change: n ${quiet.n}, p50 ${fmt(quiet.p50)}, p99 ${fmt(quiet.p99)}, max ${fmt(quiet.max)}` +
        `\n  during all changes: n ${allDuring.n}, p50 ${fmt(allDuring.p50)}, p99 ${fmt(allDuring.p99)}, max ${fmt(allDuring.max)}` +
        `\n  whole run: n ${all.n}, p50 ${fmt(all.p50)}, p99 ${fmt(all.p99)}, max ${fmt(all.max)}; ` +
        `${load.errors()} errors`,
    );
    adminAgent.destroy();
  } finally {
    await stopAll();
    removeTmp();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench:routes failed: ${err.stack || err}\n`);
    process.exit(1);
  },
);
