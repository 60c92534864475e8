'use strict';
// `npm run bench`: the direct upstream, nginx, fast-gateway and the gateway measured side by
// side in one run, on 127.0.0.1 only, bounded in time. See docs/benchmarks.md for how to read
// the output; targets.js for what is measured; options.js for the BENCH_* overrides.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { URL } = require('node:url');
const { readOptions } = require('./options');
const { chooseLoader, runLoad } = require('./load');
const { cpuDelta, cpuSnapshot, hostDelta, hostSnapshot, rssSnapshot } = require('./proc-stats');
const {
  cpuPlan,
  httpGet,
  installCleanupHandlers,
  outputOf,
  sleep,
  stopAll,
  which,
} = require('./processes');
const { measureIdleConnections } = require('./idle-connections');
const { checkAnswer, launchTarget, launchUpstream, selectTargets } = require('./targets');
const report = require('./report');

const log = (msg) => process.stdout.write(`${msg}\n`);

// CPU (% of one core) used by processes outside the benchmark during a run, above which the
// run is flagged: on a 2-core machine that much foreign work visibly moves the figures.
const OTHER_CPU_WARN = 10;

/** Seconds a run should take if nothing goes wrong; the watchdog allows generous slack. */
function plannedSeconds(opts, targetCount) {
  const perPhase = targetCount * opts.rounds * (opts.duration + opts.settle);
  const phases = opts.rate ? 2 : 1;
  return targetCount * (opts.warmup + opts.settle) + phases * perPhase;
}

/** The most the quiet-machine waits can add. */
function maxQuietWaitSeconds(opts, targetCount) {
  return (opts.rate ? 2 : 1) * targetCount * opts.rounds * (opts.quietWait + 1);
}

function armWatchdog(seconds) {
  const timer = setTimeout(() => {
    process.stderr.write(`\nbench: still running after ${seconds} s, giving up\n`);
    process.exit(1); // the 'exit' handler kills every child
  }, seconds * 1000);
  timer.unref();
}

/** Start the upstream and every selected target; check each proxies correctly. */
async function startTargets(defs, ctx) {
  const live = [];
  const skipped = [];
  for (const def of defs) {
    const t = await launchTarget(def, ctx);
    if (t.skipped) {
      log(`  ${def.label}: skipped, ${t.skipped}`);
      skipped.push({ id: def.id, reason: t.skipped });
      continue;
    }
    const res = await httpGet(t.url, t.headers, 5000);
    const problem = checkAnswer(def, res);
    if (problem) {
      const err = new Error(`${def.label} does not proxy correctly: ${problem}`);
      err.child = t.child;
      throw err;
    }
    // A gateway's RSS once it answered one request, before any load.
    const startRssMb = t.readyMs === undefined ? undefined : rssSnapshot(t.child.proc.pid).totalMb;
    const ready =
      t.readyMs === undefined ? '' : `, ready in ${t.readyMs} ms, RSS ${startRssMb.toFixed(1)} MB`;
    log(`  ${def.label}: ${t.url} (pid ${t.child.proc.pid}${ready})`);
    live.push({ def, ...t, startRssMb });
  }
  return { live, skipped };
}

function diedError(target) {
  const { code, signal } = target.child.exited;
  const err = new Error(`${target.def.label} died during the run (code ${code}, signal ${signal})`);
  err.child = target.child;
  return err;
}

/** A failed load run usually means the target went away: say so, with its output. */
async function runLoadOrExplain(target, ...args) {
  try {
    return await runLoad(...args);
  } catch (err) {
    await sleep(200);
    if (target.child.exited) {
      throw diedError(target);
    }
    err.message = `${target.def.label}: ${err.message} (process ${target.child.proc.pid} still alive)`;
    err.child = target.child;
    throw err;
  }
}

/** One load run against one target, with CPU and RSS of the proxy and of the upstream. */
async function measure(target, ctx, opts, duration, rate) {
  const isProxy = target.child !== ctx.upstream.child;
  const proxyPid = target.child.proc.pid;
  const upstreamPid = ctx.upstream.child.proc.pid;
  const before = {
    host: hostSnapshot(),
    proxy: cpuSnapshot(proxyPid),
    upstream: cpuSnapshot(upstreamPid),
  };
  let midRss = null;
  let midTimer = null;
  const load = await runLoadOrExplain(
    target,
    ctx.loader,
    ctx.plan,
    {
      url: target.url,
      headers: target.headers,
      duration,
      connections: opts.connections,
      threads: opts.threads,
      rate,
    },
    // RSS is sampled half-way (under load) and again right after; the larger one is kept.
    () => {
      midTimer = setTimeout(() => (midRss = rssSnapshot(proxyPid)), (duration * 1000) / 2);
    },
  );
  clearTimeout(midTimer);
  await sleep(50); // let an exit that raced the end of the run be noticed
  const after = {
    proxy: cpuSnapshot(proxyPid),
    upstream: cpuSnapshot(upstreamPid),
    host: hostSnapshot(),
  };
  const endRss = rssSnapshot(proxyPid);
  if (target.child.exited) {
    throw diedError(target);
  }

  const stats = (delta, rss) => ({
    cpuSecs: delta.cpuSecs,
    cpuPercent: (delta.cpuSecs / delta.wallSecs) * 100,
    cpuUsPerReq: load.requests ? (delta.cpuSecs * 1e6) / load.requests : null,
    cpuSecsPerPid: delta.perPid,
    rssMb: rss ? rss.totalMb : null,
    rssMbPerPid: rss ? rss.perPid : null,
  });
  const peakRss = midRss && midRss.totalMb > endRss.totalMb ? midRss : endRss;
  const proxy = isProxy ? stats(cpuDelta(before.proxy, after.proxy), peakRss) : null;
  const upstreamDelta = cpuDelta(before.upstream, after.upstream);
  const upstream = stats(upstreamDelta, null);
  // Whatever else ran on the machine meanwhile (other builds, tests): a run that shows a lot
  // of it is suspect, whatever its figures say.
  const host = hostDelta(before.host, after.host);
  const oursSecs = host.ownSecs + upstream.cpuSecs + (proxy ? proxy.cpuSecs : 0);
  const otherCpuPercent =
    ((Math.max(0, host.busySecs - oursSecs) + host.stealSecs) / upstreamDelta.wallSecs) * 100;
  return { load, proxy, upstream, otherCpuPercent };
}

function describeRun(label, m) {
  const e = m.load.errors;
  const errCount = Object.values(e).reduce((a, b) => a + b, 0);
  const cpu = m.proxy ? `, ${m.proxy.cpuUsPerReq.toFixed(1)} µs/req` : '';
  const errs = errCount ? `, ERRORS ${JSON.stringify(e)}` : '';
  const other =
    m.otherCpuPercent >= OTHER_CPU_WARN ? `, OTHER LOAD ${Math.round(m.otherCpuPercent)}%` : '';
  return (
    `${label}: ${Math.round(m.load.rps)} req/s, p50 ${m.load.latencyMs.p50.toFixed(2)} ms, ` +
    `p99 ${m.load.latencyMs.p99.toFixed(2)} ms${cpu}${errs}${other}`
  );
}

/**
 * Wait (bounded) until the machine is quiet: between runs every benchmark process is idle, so
 * busy CPU seen over a 1 s sample belongs to someone else. Returns the seconds waited.
 */
async function waitForQuiet(opts) {
  const started = Date.now();
  let announced = false;
  while (Date.now() - started < opts.quietWait * 1000) {
    const before = hostSnapshot();
    await sleep(1000);
    const d = hostDelta(before, hostSnapshot());
    const otherPercent = (Math.max(0, d.busySecs - d.ownSecs) + d.stealSecs) * 100;
    if (otherPercent < OTHER_CPU_WARN * 1.5) {
      break;
    }
    if (!announced) {
      log(`  (other processes use ${Math.round(otherPercent)}% of a CPU; waiting for quiet)`);
      announced = true;
    }
  }
  return (Date.now() - started) / 1000;
}

/**
 * GATEWAY_WORKERS against one process: req/s and CPU per request beside 'gateway-full', and the
 * CPU each process of the pool used per round, which shows whether every worker took traffic.
 */
function describeWorkers(id, live, phase, plan) {
  const one = phase.summaries['gateway-full'];
  const pool = phase.summaries[id];
  const target = live.find((t) => t.def.id === id);
  if (!one || !pool || !target || !one.cpuUsPerReq || !pool.cpuUsPerReq) {
    return;
  }
  const spread = target.def.cpus === 'all';
  log(
    `\n${target.def.label}: ${Math.round(pool.rps)} req/s vs one process ` +
      `${Math.round(one.rps)} (${(pool.rps / one.rps).toFixed(2)}x); CPU ` +
      `${pool.cpuUsPerReq.toFixed(1)} vs ${one.cpuUsPerReq.toFixed(1)} µs/req ` +
      `(${(pool.cpuUsPerReq / one.cpuUsPerReq).toFixed(2)}x)` +
      (spread && plan.cpus <= 2 ? ', the load generator shares the cores on this machine' : ''),
  );
  const primary = target.child.proc.pid;
  for (const run of phase.runs[id]) {
    const perPid = Object.entries(run.proxy.cpuSecsPerPid)
      .map(
        ([pid, secs]) =>
          `${Number(pid) === primary ? 'primary' : `pid ${pid}`} ${secs.toFixed(2)} s`,
      )
      .join(', ');
    log(`  round ${run.round}: CPU per process: ${perPid}`);
  }
}

/** The large route tables against one route: req/s, CPU per request, RSS, time to ready. */
function describeRouteTables(live, phase) {
  const one = phase.summaries['routes-1'];
  const base = live.find((t) => t.def.id === 'routes-1');
  if (!one || !base) {
    return;
  }
  for (const t of live.filter((x) => x.def.routeTable && x.def.id !== 'routes-1')) {
    const s = phase.summaries[t.def.id];
    log(
      `\n${t.def.label}: ${Math.round(s.rps)} req/s vs 1 route ${Math.round(one.rps)} ` +
        `(${(s.rps / one.rps).toFixed(2)}x); CPU ${s.cpuUsPerReq.toFixed(1)} vs ` +
        `${one.cpuUsPerReq.toFixed(1)} µs/req; peak RSS ${s.rssMb.toFixed(1)} vs ` +
        `${one.rssMb.toFixed(1)} MB (${s.rssMb - one.rssMb >= 0 ? '+' : ''}` +
        `${(s.rssMb - one.rssMb).toFixed(1)}); ready in ${t.readyMs} vs ${base.readyMs} ms`,
    );
  }
}

/** Rounds of interleaved runs: every target once per round, the order rotating each round. */
async function runPhase(name, live, ctx, opts, rate) {
  const runs = Object.fromEntries(live.map((t) => [t.def.id, []]));
  for (let round = 0; round < opts.rounds; round++) {
    const order = live.map((_, i) => live[(i + round) % live.length]);
    for (const t of order) {
      const waitedSecs = await waitForQuiet(opts);
      const m = await measure(t, ctx, opts, opts.duration, rate);
      runs[t.def.id].push({ round: round + 1, waitedSecs, ...m });
      log(`  [${name} ${round + 1}/${opts.rounds}] ${describeRun(t.def.label, m)}`);
      await sleep(opts.settle * 1000);
    }
  }
  const summaries = {};
  for (const t of live) {
    summaries[t.def.id] = report.summarize(runs[t.def.id]);
  }
  return { rate: rate || null, runs, summaries };
}

/**
 * Memory cost of idle keep-alive connections (issue 3: 10,000 cost < 100 MB more), measured on
 * the gateway targets after the load phases.
 */
async function runIdlePhase(live, opts) {
  log(`\nidle connections: ${opts.idleConnections} keep-alive connections per gateway target`);
  const idle = {};
  for (const t of live.filter((x) => x.def.kind === 'gateway' && !x.def.skipIdle)) {
    await waitForQuiet(opts);
    const r = await measureIdleConnections({
      url: t.url,
      path: new URL(t.url).pathname,
      headers: t.headers,
      pid: t.child.proc.pid,
      count: opts.idleConnections,
    });
    idle[t.def.id] = { ...r, rssDeltaMb: r.rssAfterMb - r.rssBeforeMb };
    log(
      `  ${t.def.label}: ${r.opened}/${r.requested} answered, ${r.alive} still open; RSS ` +
        `${r.rssBeforeMb.toFixed(0)} -> ${r.rssAfterMb.toFixed(0)} MB ` +
        `(+${(r.rssAfterMb - r.rssBeforeMb).toFixed(0)} MB)`,
    );
    if (t.child.exited) {
      throw diedError(t);
    }
    await sleep(opts.settle * 1000);
  }
  return idle;
}

/** Log files of targets (nginx's error.log) that are not empty, before the temp dir goes. */
function collectLogs(live) {
  const logs = {};
  for (const t of live) {
    if (t.logFile && fs.existsSync(t.logFile)) {
      const text = fs.readFileSync(t.logFile, 'utf8').trim();
      if (text) {
        logs[t.def.id] = text.slice(-16_000);
      }
    }
  }
  return logs;
}

function printTable(title, table) {
  log(`\n${title}\n`);
  log(report.renderTable(table.headers, table.rows));
}

async function main() {
  const startedAt = new Date();
  const opts = readOptions();
  const plan = cpuPlan();
  const loader = chooseLoader(opts.loader);
  const defs = selectTargets(opts.targets);
  const planned = plannedSeconds(opts, defs.length);
  armWatchdog(Math.ceil(planned * 1.5) + maxQuietWaitSeconds(opts, defs.length) + 180);

  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-bench-'));
  const removeTmp = () => fs.rmSync(tmpDir, { recursive: true, force: true });
  installCleanupHandlers(removeTmp);

  const machine = report.machineInfo(plan, loader, which('nginx'));
  log(
    `machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB, node ${machine.node}`,
  );
  log(`load: ${machine.loadGenerator}; pinning: ${machine.pinning}`);
  log(
    `plan: ${opts.connections} connections, warm-up ${opts.warmup} s, ` +
      `${opts.rounds} x ${opts.duration} s per target${opts.rate ? `, then ${opts.rate} req/s fixed` : ''}` +
      ` (about ${Math.round(planned)} s of load` +
      `${opts.quietWait ? `, plus up to ${opts.quietWait} s per run waiting for a quiet machine` : ''})`,
  );
  if (fs.existsSync(path.join(__dirname, '..', '.env'))) {
    log('note: a .env file exists in the repo root; the gateway reads it (env vars set here win)');
  }

  const ctx = { plan, loader, tmpDir, upstream: null };
  try {
    log('\nstarting:');
    ctx.upstream = await launchUpstream(ctx);
    log(`  upstream: ${ctx.upstream.base} (pid ${ctx.upstream.child.proc.pid})`);
    const { live, skipped } = await startTargets(defs, ctx);

    if (opts.warmup > 0) {
      log(`\nwarm-up (${opts.warmup} s each)`);
      for (const t of live) {
        await measure(t, ctx, opts, opts.warmup, 0);
        await sleep(opts.settle * 1000);
      }
    }

    log(`\nthroughput: ${opts.connections} connections, as fast as possible`);
    const throughput = await runPhase('max', live, ctx, opts, 0);
    let fixedRate = null;
    if (opts.rate) {
      log(`\nfixed rate: ${opts.rate} req/s over ${opts.connections} connections`);
      fixedRate = await runPhase(`${opts.rate}/s`, live, ctx, opts, opts.rate);
    }

    let idle = null;
    if (opts.idleConnections > 0) {
      idle = await runIdlePhase(live, opts);
    }

    const liveDefs = live.map((t) => t.def);
    const tables = {
      throughput: report.throughputTable(liveDefs, throughput.summaries),
      fixedRate: fixedRate ? report.fixedRateTable(liveDefs, fixedRate.summaries) : null,
    };
    printTable(
      `results: medians of ${opts.rounds} x ${opts.duration} s, ${opts.connections} connections`,
      tables.throughput,
    );
    if (fixedRate) {
      printTable(`fixed rate ${opts.rate} req/s: medians of ${opts.rounds} runs`, tables.fixedRate);
    }
    for (const id of ['gateway-workers', 'gateway-workers-spread']) {
      describeWorkers(id, live, throughput, ctx.plan);
    }
    describeRouteTables(live, throughput);
    const busyRuns = [throughput, fixedRate]
      .filter(Boolean)
      .flatMap((phase) => Object.values(phase.runs).flat())
      .filter((r) => r.otherCpuPercent >= OTHER_CPU_WARN).length;
    if (busyRuns) {
      log(
        `\nwarning: during ${busyRuns} run(s) other processes used >= ${OTHER_CPU_WARN}% of a CPU; ` +
          'figures from a busy machine are noisy (see OTHER LOAD above)',
      );
    }
    if (Object.values(throughput.summaries).some((s) => s.errors)) {
      log('\n(!) = that target had socket errors or non-2xx answers; see the run lines above');
    }

    const logs = collectLogs(live);
    for (const [id, text] of Object.entries(logs)) {
      log(`\nnote: ${id} logged during the run (kept in the results file):\n${text.slice(-2000)}`);
    }

    const totalSecs = (Date.now() - startedAt.getTime()) / 1000;
    const file = report.writeResults({
      startedAt: startedAt.toISOString(),
      totalSecs,
      options: opts,
      machine,
      targets: live.map((t) => ({
        ...t.def,
        url: t.url,
        setup: undefined,
        readyMs: t.readyMs,
        startRssMb: t.startRssMb,
      })),
      skipped,
      logs,
      throughput,
      fixedRate,
      idle,
      markdown: {
        throughput: report.renderMarkdown(tables.throughput.headers, tables.throughput.rows),
        fixedRate: tables.fixedRate
          ? report.renderMarkdown(tables.fixedRate.headers, tables.fixedRate.rows)
          : null,
      },
    });
    log(`\nresults written to ${path.relative(process.cwd(), file)}`);
    log(`total time: ${totalSecs.toFixed(0)} s`);
  } finally {
    await stopAll();
    removeTmp();
  }
}

main().catch((err) => {
  process.stderr.write(`\nbench failed: ${err.message}\n`);
  if (err.child) {
    const out = outputOf(err.child).trim();
    process.stderr.write(
      `--- output of ${err.child.name} (last ${out.length} chars) ---\n${out || '(none)'}\n---\n`,
    );
  }
  process.exitCode = 1;
});
