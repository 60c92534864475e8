'use strict';
// What the benchmark measures. Each target is started once, then driven round after round.
//
// A target definition:
//   id         name for BENCH_TARGETS and the JSON report
//   label      name in the table
//   kind       'direct' | 'nginx' | 'fast-gateway' | 'gateway' (see LAUNCHERS below)
//   byDefault  part of a plain `npm run bench`
//   optional   skipped with a note (not an error) when its program is not installed
//   env        gateway only: extra environment for `node dist/main.js`
//   setup      gateway only: (ctx) => extra env; may write files (keys, log paths) in ctx.tmpDir
//   routeOverrides  gateway only: fields merged into the single bench route (require_auth...)
//   routeTable gateway only: (upstreamBase) => more routes; they and the bench route are then
//              written to a GATEWAY_CONFIG JSON file instead of SERVICE_ROUTES
//   skipIdle   gateway only: left out of the idle keep-alive connections phase
//   cpus       gateway only: taskset CPU list instead of the proxy core (e.g. '0,1'), or 'all'
//              for no pinning at all (cluster workers)
//   main       gateway only: another build's dist/main.js (bench:pair's `<id>@<path>`)
//   collectStdout  gateway only: stdout goes into a pipe read by `cat` on the load core and
//              written to a file, as a container runtime collects it (see collectStdout below)
//   path       request path (default /bench/item); headers: extra request headers
//   skipBodyCheck   the pre-run check accepts any 200 body (e.g. a cache that rewrites it)
//
// Ratios in the report are taken against the targets with ids 'direct', 'nginx',
// 'fast-gateway' and 'gateway-full'.

const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { BODY } = require('./upstream');
const { nginxArgs, writeNginxConf } = require('./nginx');
const { freePort, pinnedCommand, startChild, track, waitForHttp, which } = require('./processes');

const REPO_ROOT = path.join(__dirname, '..');
const GATEWAY_MAIN = path.join(REPO_ROOT, 'dist', 'main.js');
const DEFAULT_PATH = '/bench/item';

// Limits so high every request is admitted; the checks still run and are paid for.
const NEVER_BITING_LIMITS = {
  MAX_REQUESTS_PER_SECOND: '1000000',
  MAX_BURST_SIZE: '1000000',
  DDOS_THRESHOLD: '100000000',
};

// What every full-pipeline target shares: an API key required on the route, sent by the
// load generator, and the access log where the defaults put it: on stdout, which the bench
// collects into a file through a pipe as a container runtime would.
const FULL_PIPELINE = {
  setup: (ctx) => {
    const keys = path.join(ctx.tmpDir, 'api-keys.txt');
    fs.writeFileSync(keys, 'bench-key-0123456789abcdef bench\n');
    return { API_KEYS_FILE: keys };
  },
  collectStdout: true,
  routeOverrides: { require_auth: true },
  headers: { 'x-api-key': 'bench-key-0123456789abcdef' },
};

// The same with ACCESS_LOG_FILE: access lines batched into a file, the other lines on stdout.
const FULL_PIPELINE_FILE = {
  ...FULL_PIPELINE,
  setup: (ctx) => ({
    ...FULL_PIPELINE.setup(ctx),
    ACCESS_LOG_FILE: path.join(ctx.tmpDir, `access-${process.hrtime.bigint()}.log`),
  }),
};

// The full pipeline on two cluster workers, shared by the two workers targets below.
const TWO_WORKERS = {
  env: {
    GATEWAY_WORKERS: '2',
    LOG_LEVEL: 'info',
    ...NEVER_BITING_LIMITS,
    ENABLE_CACHING: 'false',
  },
  ...FULL_PIPELINE,
};

/** A full-pipeline target whose routes (`routes(upstreamBase)` plus `/bench`) come from a file. */
function routeTableTarget(id, label, routes) {
  return {
    id,
    label,
    kind: 'gateway',
    byDefault: true,
    skipIdle: true,
    env: { LOG_LEVEL: 'info', ...NEVER_BITING_LIMITS, ENABLE_CACHING: 'false' },
    ...FULL_PIPELINE,
    routeOverrides: { ...FULL_PIPELINE.routeOverrides, prefix: '/bench' },
    routeTable: routes,
  };
}

const TARGETS = [
  { id: 'direct', label: 'direct (upstream)', kind: 'direct', byDefault: true },
  { id: 'nginx', label: 'nginx (1 worker)', kind: 'nginx', byDefault: true, optional: true },
  { id: 'fast-gateway', label: 'fast-gateway (bare)', kind: 'fast-gateway', byDefault: true },
  // node:http + undici and nothing else: the floor under every Node.js gateway here (see
  // bench/node-floor-server.js), so ratios against nginx can be read against what Node allows.
  { id: 'node-floor', label: 'node:http + undici (floor)', kind: 'node-floor', byDefault: true },
  // The same proxying behind NestJS on Fastify with one catch-all controller (issue 3's stack
  // decision) and nothing else: what the framework alone costs (bench/nest-floor-server.js).
  {
    id: 'nest-floor',
    label: 'Nest + Fastify catch-all (floor)',
    kind: 'nest-floor',
    byDefault: true,
  },
  // The same Nest app with the catch-all registered as a Fastify route instead of a controller:
  // what Nest's per-request router machinery costs on top of Fastify. Not in the default run.
  {
    id: 'nest-fastify-route-floor',
    label: 'Nest + Fastify, catch-all as a Fastify route (floor)',
    kind: 'nest-fastify-route-floor',
    byDefault: false,
  },
  // The same catch-all answering the upstream's body from memory: the floor under a cache HIT on
  // this stack. Not in the default run; pair it with gateway-cache (npm run bench:pair).
  {
    id: 'nest-memory-floor',
    label: 'Nest + Fastify catch-all, from memory (floor)',
    kind: 'nest-memory-floor',
    byDefault: false,
  },
  // Bare proxy: no access log, no security headers, limits so high they never bite (the edge
  // checks still run; they cannot be compiled out).
  {
    id: 'gateway',
    label: 'gateway (bare)',
    kind: 'gateway',
    byDefault: true,
    env: {
      SECURITY_HEADERS: 'false',
      ...NEVER_BITING_LIMITS,
      ENABLE_CACHING: 'false',
      ENABLE_COMPRESSION: 'false',
    },
  },

  // The full default pipeline: request id, security headers, per-IP token bucket (limits set
  // high so every request is admitted and still pays for the check), flood counting, API-key
  // auth, Prometheus metrics, access log at info to stdout (collected through a pipe into a
  // file), compression negotiation (the 100-byte body stays under its threshold). The cache is
  // off: this is the proxied path.
  {
    id: 'gateway-full',
    label: 'gateway (full pipeline)',
    kind: 'gateway',
    byDefault: true,
    env: {
      LOG_LEVEL: 'info',
      ...NEVER_BITING_LIMITS,
      ENABLE_CACHING: 'false',
    },
    ...FULL_PIPELINE,
  },

  // The same without the access log (LOG_LEVEL=warn): paired with gateway-full, what the
  // access log costs in place. Not in the default run.
  {
    id: 'gateway-full-nolog',
    label: 'gateway (full, no access log)',
    kind: 'gateway',
    byDefault: false,
    env: {
      LOG_LEVEL: 'warn',
      ...NEVER_BITING_LIMITS,
      ENABLE_CACHING: 'false',
    },
    ...FULL_PIPELINE,
  },

  // The same with the access log in a file (ACCESS_LOG_FILE) instead of stdout. Not in the
  // default run.
  {
    id: 'gateway-full-file',
    label: 'gateway (full, ACCESS_LOG_FILE)',
    kind: 'gateway',
    byDefault: false,
    env: {
      LOG_LEVEL: 'info',
      ...NEVER_BITING_LIMITS,
      ENABLE_CACHING: 'false',
    },
    ...FULL_PIPELINE_FILE,
  },

  // The same pipeline with the in-memory cache on: the upstream's answer (no Cache-Control)
  // is fresh for CACHE_TTL, so after the first request every one is a HIT served by the
  // gateway after the edge checks (issue 3: HIT path >= 2x the proxied path).
  {
    id: 'gateway-cache',
    label: 'gateway (full, cache HIT)',
    kind: 'gateway',
    byDefault: true,
    env: {
      LOG_LEVEL: 'info',
      ...NEVER_BITING_LIMITS,
      ENABLE_CACHING: 'true',
      CACHE_TTL: '1h',
    },
    ...FULL_PIPELINE,
  },

  // The full pipeline on two cluster workers (GATEWAY_WORKERS=2), the whole pool (primary and
  // both workers) on the proxy core like 'gateway-full': issue 3 judges workers by CPU per
  // request against one process and by every worker taking a share, and only on the same core
  // do the two figures compare. Spread over both cores of a 2-core machine the workers share
  // them with wrk and the upstream, and their CPU per request mostly measures that contention
  // ('gateway-workers-spread' below). Per-pid CPU is printed after the table and kept in the
  // results file. Without Redis the workers' buckets are separate, which these never-biting
  // limits hide.
  {
    id: 'gateway-workers',
    label: 'gateway (full, 2 workers)',
    kind: 'gateway',
    byDefault: true,
    ...TWO_WORKERS,
  },

  // The same two workers free to run on every core (what req/s a second worker adds on this
  // machine). Not in the default run.
  {
    id: 'gateway-workers-spread',
    label: 'gateway (full, 2 workers, all cores)',
    kind: 'gateway',
    byDefault: false,
    cpus: 'all',
    ...TWO_WORKERS,
  },

  // Route tables (issue 26): the full pipeline with its routes in a GATEWAY_CONFIG JSON file,
  // requesting /bench/item, whose route `/bench` is shorter than every other prefix (a matcher
  // that scans prefixes longest first pays for all of them). One route against 20,000 distinct
  // two-segment prefixes (`/svc123/v4`), and against 20,000 exact hosts (`api-123.example.test`)
  // the request's Host does not match, so it falls through to the any-host `/bench`. Compare them
  // with `npm run bench:pair -- routes-1 routes-prefix-20k` (and routes-host-20k).
  routeTableTarget('routes-1', 'gateway (full, 1 route from a file)', () => []),
  routeTableTarget('routes-prefix-20k', 'gateway (full, 20,000 prefix routes)', (upstream) =>
    Array.from({ length: 20_000 }, (_, i) => ({
      name: `svc${i}`,
      prefix: `/svc${i}/v4`,
      target_url: upstream,
    })),
  ),
  routeTableTarget('routes-host-20k', 'gateway (full, 20,000 host routes)', (upstream) =>
    Array.from({ length: 20_000 }, (_, i) => ({
      name: `api${i}`,
      host: `api-${i}.example.test`,
      prefix: '/',
      target_url: upstream,
    })),
  ),

  // ---------------------------------------------------------------------------------------
  // SLOT for later issues: more gateway configurations, measured in the same run.
  // ---------------------------------------------------------------------------------------
];

// Children get a small, explicit environment: the run must not depend on whatever
// GATEWAY_* or ROUTE_* variables the person running it has exported.
function baseEnv() {
  const env = { NODE_ENV: 'production' };
  for (const key of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'TZ']) {
    if (process.env[key] !== undefined) {
      env[key] = process.env[key];
    }
  }
  return env;
}

function nodeChild(ctx, name, script, args, cpu) {
  // ctx.nodeArgs: extra node flags for the proxies under test (bench/profile.js: --cpu-prof).
  const nodeArgs = name === 'upstream' ? [] : ctx.nodeArgs || [];
  const cmd = pinnedCommand(ctx.plan, cpu, process.execPath, [...nodeArgs, script, ...args]);
  return startChild(name, { ...cmd, env: baseEnv(), cwd: REPO_ROOT, ipc: true });
}

async function launchUpstream(ctx) {
  const port = await freePort();
  const child = nodeChild(
    ctx,
    'upstream',
    path.join(__dirname, 'upstream.js'),
    [String(port)],
    ctx.plan.loadCpu,
  );
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(child, `${base}/`, 10_000);
  return { child, port, base };
}

/** A plain Node.js proxy script from bench/, given its port and the upstream, on the proxy core. */
async function launchNodeProxy(ctx, name, script, extraArgs = []) {
  const port = await freePort();
  const child = nodeChild(
    ctx,
    name,
    path.join(__dirname, script),
    [String(port), ctx.upstream.base, ...extraArgs],
    ctx.plan.proxyCpu,
  );
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(child, `${base}${DEFAULT_PATH}`, 10_000);
  return { base, child };
}

/** The target's route table, then the bench route, as a GATEWAY_CONFIG JSON file. */
function writeRouteFile(ctx, def, benchRoute) {
  const file = path.join(ctx.tmpDir, `routes-${def.id}.json`);
  const routes = [...def.routeTable(ctx.upstream.base), benchRoute];
  fs.writeFileSync(file, JSON.stringify({ routes }));
  return file;
}

const LAUNCHERS = {
  direct(_def, ctx) {
    // Nothing to start: the upstream itself is the target. Its process is measured so the
    // report can show how busy the load core is.
    return { base: ctx.upstream.base, child: ctx.upstream.child };
  },

  async nginx(_def, ctx) {
    const bin = which('nginx');
    if (!bin) {
      return { skipped: 'nginx not installed (Debian: apt-get install nginx-light)' };
    }
    const port = await freePort();
    const dir = fs.mkdtempSync(path.join(ctx.tmpDir, 'nginx-'));
    // Workers drop to an unprivileged user when started as root; let them into the dir.
    fs.chmodSync(dir, 0o755);
    const conf = writeNginxConf(dir, port, ctx.upstream.port);
    const cmd = pinnedCommand(ctx.plan, ctx.plan.proxyCpu, bin, nginxArgs(dir, conf));
    const child = startChild('nginx', { ...cmd, env: baseEnv(), cwd: dir });
    const base = `http://127.0.0.1:${port}`;
    try {
      await waitForHttp(child, `${base}${DEFAULT_PATH}`, 10_000);
    } catch (err) {
      const log = path.join(dir, 'error.log');
      const tail = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
      err.message += `\n${tail}`;
      throw err;
    }
    return { base, child, logFile: path.join(dir, 'error.log') };
  },

  'fast-gateway'(_def, ctx) {
    return launchNodeProxy(ctx, 'fast-gateway', 'fast-gateway-server.js');
  },

  'node-floor'(_def, ctx) {
    return launchNodeProxy(ctx, 'node-floor', 'node-floor-server.js');
  },

  'nest-floor'(_def, ctx) {
    return launchNodeProxy(ctx, 'nest-floor', 'nest-floor-server.js');
  },

  'nest-fastify-route-floor'(_def, ctx) {
    return launchNodeProxy(ctx, 'nest-fastify-route-floor', 'nest-floor-server.js', [
      'fastify-route',
    ]);
  },

  'nest-memory-floor'(_def, ctx) {
    return launchNodeProxy(ctx, 'nest-memory-floor', 'nest-floor-server.js', ['memory']);
  },

  async gateway(def, ctx) {
    const main = def.main || GATEWAY_MAIN;
    if (!fs.existsSync(main)) {
      throw new Error(`${main} is missing: run \`npm run build\` (npm run bench does)`);
    }
    const port = await freePort();
    const route = {
      name: 'bench',
      prefix: '/',
      target_url: ctx.upstream.base,
      ...(def.routeOverrides || {}),
    };
    const routes = def.routeTable
      ? { GATEWAY_CONFIG: writeRouteFile(ctx, def, route) }
      : { SERVICE_ROUTES: JSON.stringify([route]) };
    const env = {
      ...baseEnv(),
      GATEWAY_PORT: `127.0.0.1:${port}`,
      ...routes,
      LOG_LEVEL: 'warn', // no access log unless a target asks for one
      NO_DASHBOARD: '1',
      DEMO_UPSTREAM: 'false',
      ...(def.env || {}),
      ...(def.setup ? def.setup(ctx) : {}),
    };
    const cpu = def.cpus === 'all' ? null : def.cpus || ctx.plan.proxyCpu;
    let argv = [process.execPath, ...(ctx.nodeArgs || []), main];
    let stdoutLog;
    if (def.collectStdout) {
      const collector = collectStdout(ctx, def.id);
      stdoutLog = collector.logPath;
      // sh opens the FIFO as stdout and execs node: the pid (and its CPU) stays the gateway's.
      argv = ['/bin/sh', '-c', 'exec "$@" > "$0"', collector.fifo, ...argv];
    }
    const cmd = pinnedCommand(ctx.plan, cpu, argv[0], argv.slice(1));
    const started = Date.now();
    const child = startChild(def.label, { ...cmd, env, cwd: REPO_ROOT });
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(child, `${base}/health`, 30_000);
    // From spawn to the first 200 from /health (polled every 100 ms): config load included.
    return { base, child, stdoutLog, readyMs: Date.now() - started };
  },
};

let collectors = 0;

/**
 * A container runtime's log collection: the gateway's stdout is a pipe (a FIFO here, opened by
 * a shell that then execs the gateway, so its blocking mode is the default one a runtime hands
 * over), read by `cat` on the load core and appended to a file. The reader's CPU is not the
 * gateway's, as the runtime's is not. `cat` ends when the gateway closes the pipe.
 */
function collectStdout(ctx, id) {
  const n = ++collectors;
  const fifo = path.join(ctx.tmpDir, `${id}-${n}.stdout`);
  const logPath = path.join(ctx.tmpDir, `${id}-${n}.stdout.log`);
  execFileSync('mkfifo', [fifo]);
  const out = fs.openSync(logPath, 'a');
  const cmd = pinnedCommand(ctx.plan, ctx.plan.loadCpu, 'cat', [fifo]);
  const proc = spawn(cmd.cmd, cmd.args, { stdio: ['ignore', out, 'inherit'] });
  fs.closeSync(out);
  track(`${id} stdout collector`, proc);
  return { fifo, logPath };
}

/** The definitions selected by BENCH_TARGETS (or the default set), in table order. */
function selectTargets(ids) {
  if (!ids) {
    return TARGETS.filter((t) => t.byDefault);
  }
  if (ids.length === 1 && ids[0] === 'all') {
    return TARGETS.slice();
  }
  const unknown = ids.filter((id) => !TARGETS.some((t) => t.id === id));
  if (unknown.length) {
    throw new Error(
      `unknown BENCH_TARGETS id(s): ${unknown.join(', ')}; known: ${TARGETS.map((t) => t.id).join(', ')}, all`,
    );
  }
  return TARGETS.filter((t) => ids.includes(t.id));
}

async function launchTarget(def, ctx) {
  const launched = await LAUNCHERS[def.kind](def, ctx);
  if (launched.skipped) {
    return launched;
  }
  const url = `${launched.base}${def.path || DEFAULT_PATH}`;
  return { ...launched, url, headers: def.headers || {} };
}

/** One request through the target: it must answer 200 with the upstream's exact body. */
function checkAnswer(def, res) {
  if (res.status !== 200) {
    return `expected 200, got ${res.status}: ${res.body.toString('utf8').slice(0, 300)}`;
  }
  if (!def.skipBodyCheck && !res.body.equals(BODY)) {
    return `body differs from the upstream's (${res.body.length} bytes)`;
  }
  return null;
}

module.exports = {
  DEFAULT_PATH,
  TARGETS,
  checkAnswer,
  launchTarget,
  launchUpstream,
  selectTargets,
};
