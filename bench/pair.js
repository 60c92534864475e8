'use strict';
// `npm run bench:pair -- <A> <B>`: two targets of targets.js pinned on the same proxy core and
// loaded at the same time, round after round, comparing their CPU µs per request.
//
// Why: on a shared VM the core's speed drifts by tens of percent within a minute, so two
// targets measured one after the other (as `npm run bench` must, to give each the whole core)
// can swap places from one run to the next. Loaded together, both see the same drift, and the
// ratio of their CPU per request is steady to a few percent. Absolute figures are higher than
// in `npm run bench` (two processes take turns on one core); read only the ratio.
//
// Example: npm run bench:pair -- fast-gateway gateway-full
// Two builds: npm run bench:pair -- gateway-full@bench/results/base/dist/main.js gateway-full
// Options: BENCH_PAIR_ROUNDS (10), BENCH_PAIR_DURATION (4 s), BENCH_CONNECTIONS (50 per target).

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chooseLoader, runLoad } = require('./load');
const { readOptions } = require('./options');
const { cpuDelta, cpuSnapshot } = require('./proc-stats');
const { cpuPlan, httpGet, installCleanupHandlers, stopAll, sleep } = require('./processes');
const { checkAnswer, launchTarget, launchUpstream, selectTargets } = require('./targets');

const log = (msg) => process.stdout.write(`${msg}\n`);

function intFromEnv(name, fallback) {
  const value = Number(process.env[name] || fallback);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${name} must be a positive integer`);
  }
  return value;
}

function median(values) {
  const v = values.slice().sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** Both targets under load at once; CPU µs per request of each. */
async function pairedRun(ctx, pair, duration, connections) {
  const before = pair.map((t) => cpuSnapshot(t.child.proc.pid));
  const loads = await Promise.all(
    pair.map((t) =>
      runLoad(ctx.loader, ctx.plan, {
        url: t.url,
        headers: t.headers,
        duration,
        connections,
        threads: 1,
      }),
    ),
  );
  return pair.map((t, i) => {
    const cpu = cpuDelta(before[i], cpuSnapshot(t.child.proc.pid));
    const errors = Object.values(loads[i].errors).reduce((a, b) => a + b, 0);
    if (errors > 0) {
      throw new Error(`${t.def.label}: ${errors} errors or non-2xx answers during a paired run`);
    }
    return { requests: loads[i].requests, cpuSecs: cpu.cpuSecs };
  });
}

async function main() {
  const ids = process.argv.slice(2);
  if (ids.length !== 2) {
    throw new Error('usage: node bench/pair.js <target A> <target B> (ids from bench/targets.js)');
  }
  // Every process of both targets goes on the proxy core, GATEWAY_WORKERS pools included: for
  // them the ratio is then the cluster's own cost per request, without the cross-core
  // contention with wrk and the upstream that `npm run bench` lets them run into.
  // `<target>@<path to main.js>`: the same target from another build of the gateway (e.g. one of
  // an earlier commit compiled under bench/results/), to compare two builds rather than two
  // configurations.
  const defs = ids.map((spec) => {
    const [id, main] = spec.split('@');
    const def = { ...selectTargets([id])[0], cpus: undefined };
    if (main !== undefined) {
      if (def.kind !== 'gateway') {
        throw new Error(`${spec}: only gateway targets take another build`);
      }
      def.main = path.resolve(main);
      def.label = `${def.label} @ ${path.relative(process.cwd(), def.main)}`;
    }
    return def;
  });
  for (const def of defs) {
    if (def.kind === 'direct') {
      throw new Error('direct cannot be paired: both targets must be proxies on the proxy core');
    }
  }
  const opts = readOptions();
  const rounds = intFromEnv('BENCH_PAIR_ROUNDS', 10);
  const duration = intFromEnv('BENCH_PAIR_DURATION', 4);
  const plan = cpuPlan();
  if (!plan.pinned) {
    throw new Error('pairing needs 2+ CPUs and taskset: both targets share one pinned core');
  }
  // Bounded whatever happens: rounds plus warm-up plus start-up, with slack.
  setTimeout(
    () => {
      process.stderr.write('bench:pair: overran its time, giving up\n');
      process.exit(1);
    },
    ((rounds + 1) * (duration + 25) + 120) * 1000,
  ).unref();

  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-pair-'));
  const removeTmp = () => fs.rmSync(tmpDir, { recursive: true, force: true });
  installCleanupHandlers(removeTmp);
  const ctx = { plan, loader: chooseLoader('wrk'), tmpDir, upstream: null };
  try {
    ctx.upstream = await launchUpstream(ctx);
    const pair = [];
    for (const def of defs) {
      const t = await launchTarget(def, ctx);
      if (t.skipped) {
        throw new Error(`${def.label}: ${t.skipped}`);
      }
      const problem = checkAnswer(def, await httpGet(t.url, t.headers, 5000));
      if (problem) {
        throw new Error(`${def.label} does not proxy correctly: ${problem}`);
      }
      pair.push({ def, ...t });
    }
    log(`A = ${pair[0].def.label}, B = ${pair[1].def.label}; both on CPU ${plan.proxyCpu}`);
    await pairedRun(ctx, pair, 3, opts.connections); // warm-up
    const rows = [];
    for (let i = 1; i <= rounds; i++) {
      const [a, b] = await pairedRun(ctx, pair, duration, opts.connections);
      const usA = (a.cpuSecs * 1e6) / a.requests;
      const usB = (b.cpuSecs * 1e6) / b.requests;
      rows.push({ a, b, ratio: usB / usA });
      log(
        `  round ${i}: A ${usA.toFixed(1)} µs/req (${a.requests} req), ` +
          `B ${usB.toFixed(1)} µs/req (${b.requests} req), B/A ${(usB / usA).toFixed(3)}`,
      );
      await sleep(500);
    }
    const pooled = (side) =>
      (rows.reduce((s, r) => s + r[side].cpuSecs, 0) * 1e6) /
      rows.reduce((s, r) => s + r[side].requests, 0);
    log(
      `\nCPU per request, B/A: median ${median(rows.map((r) => r.ratio)).toFixed(3)} over ` +
        `${rounds} rounds; pooled ${(pooled('b') / pooled('a')).toFixed(3)} ` +
        `(A ${pooled('a').toFixed(1)}, B ${pooled('b').toFixed(1)} µs/req while sharing the core)`,
    );
    // The scheduler gives the two about equal CPU time, so their request counts compare too.
    const served = (side) => rows.reduce((s, r) => s + r[side].requests, 0);
    log(
      `Requests served, B/A: median ${median(rows.map((r) => r.b.requests / r.a.requests)).toFixed(3)}; ` +
        `pooled ${(served('b') / served('a')).toFixed(3)}`,
    );
    for (const t of pair) {
      if (t.stdoutLog) {
        const text = fs.readFileSync(t.stdoutLog, 'utf8');
        const lines = text.split('\n').filter((l) => l.includes('"request completed"')).length;
        log(`${t.def.label}: ${lines} access lines collected from stdout`);
      }
    }
  } finally {
    await stopAll();
    removeTmp();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench:pair failed: ${err.stack || err}\n`);
    process.exit(1);
  },
);
