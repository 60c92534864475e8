'use strict';
// `node bench/profile.js <target> [seconds]`: one Node.js target of targets.js (a gateway, a
// floor, fast-gateway) under saturating load on the pinned proxy core, run with
// `node --cpu-prof`, then a summary of the samples taken during the measured load only (not
// start-up or warm-up): self time by package or file and by function, and inclusive time of the
// gateway's own functions. The .cpuprofile is kept (path printed) for Chrome DevTools or
// speedscope.
//
// Example: npm run build && node bench/profile.js gateway-full 10
// Options: BENCH_CONNECTIONS (50), BENCH_PROFILE_TOP (40 rows), BENCH_PROFILE_INTERVAL (µs, 100).

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chooseLoader, runLoad } = require('./load');
const { readOptions } = require('./options');
const { cpuDelta, cpuSnapshot } = require('./proc-stats');
const { cpuPlan, httpGet, installCleanupHandlers, stopAll, stopChild } = require('./processes');
const { checkAnswer, launchTarget, launchUpstream, selectTargets } = require('./targets');

const log = (msg) => process.stdout.write(`${msg}\n`);
const REPO = path.join(__dirname, '..');

/** Where a profile node's time is booked: a package, a file of ours, or Node's internals. */
function bucketOf(url) {
  if (!url) {
    return '(native / GC / idle)';
  }
  const nm = url.lastIndexOf('node_modules/');
  if (nm !== -1) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) {
    return `node:${url.slice(5).split('/')[0]}`;
  }
  const dist = url.indexOf('/dist/');
  if (dist !== -1) {
    return url.slice(dist + 1);
  }
  return url;
}

/**
 * `window`: [from, to] in µs of CLOCK_MONOTONIC, which both V8's sample timestamps and
 * process.hrtime use on Linux; samples outside it are left out.
 */
function summarise(profile, top, window) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  // Sample i was taken at startTime + sum(timeDeltas[0..i]) and stands for the time until the
  // next one.
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i];
    const dt = profile.timeDeltas[i + 1] ?? 0;
    if (at < window[0] || at > window[1]) {
      continue;
    }
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + dt);
  }
  const parentOf = new Map();
  for (const n of profile.nodes) {
    for (const c of n.children ?? []) {
      parentOf.set(c, n.id);
    }
  }
  let total = 0;
  let idle = 0;
  const fnSelf = new Map();
  const bucketSelf = new Map();
  const fnTotal = new Map();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    const cf = node.callFrame;
    total += us;
    if (cf.functionName === '(idle)') {
      idle += us;
      continue;
    }
    const key = `${cf.functionName || '(anonymous)'} ${bucketOf(cf.url)}:${cf.lineNumber + 1}`;
    fnSelf.set(key, (fnSelf.get(key) ?? 0) + us);
    const bucket = bucketOf(cf.url);
    bucketSelf.set(bucket, (bucketSelf.get(bucket) ?? 0) + us);
    // Inclusive: book the sample once to every distinct function on its stack.
    const seen = new Set();
    for (let at = id; at !== undefined; at = parentOf.get(at)) {
      const f = byId.get(at).callFrame;
      if (!f.url.includes('/dist/')) {
        continue;
      }
      const k = `${f.functionName || '(anonymous)'} ${bucketOf(f.url)}:${f.lineNumber + 1}`;
      if (!seen.has(k)) {
        seen.add(k);
        fnTotal.set(k, (fnTotal.get(k) ?? 0) + us);
      }
    }
  }
  const busy = total - idle;
  const pct = (us) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
  const rows = (map, n) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => `  ${pct(us)}  ${k}`)
      .join('\n');
  log(`\nbusy ${(busy / 1e6).toFixed(2)} s of ${(total / 1e6).toFixed(2)} s profiled`);
  log(`\nSelf time by package / file (share of busy time):\n${rows(bucketSelf, top)}`);
  log(`\nSelf time by function:\n${rows(fnSelf, top)}`);
  if (fnTotal.size > 0) {
    log(`\nInclusive time of the gateway's own functions (dist/):\n${rows(fnTotal, top)}`);
  }
}

async function main() {
  const [id, secondsArg] = process.argv.slice(2);
  if (!id) {
    throw new Error('usage: node bench/profile.js <target id> [seconds]');
  }
  const def = { ...selectTargets([id])[0], cpus: undefined };
  if (['direct', 'nginx'].includes(def.kind)) {
    throw new Error('profile.js profiles Node.js targets only');
  }
  const seconds = Number(secondsArg ?? 10);
  const top = Number(process.env.BENCH_PROFILE_TOP ?? 40);
  const interval = Number(process.env.BENCH_PROFILE_INTERVAL ?? 100);
  const opts = readOptions();
  const plan = cpuPlan();
  setTimeout(
    () => {
      process.stderr.write('profile: overran its time, giving up\n');
      process.exit(1);
    },
    (seconds + 120) * 1000,
  ).unref();

  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-profile-'));
  const profDir = path.join(REPO, 'bench', 'results', `profile-${id}-${Date.now()}`);
  fs.mkdirSync(profDir, { recursive: true });
  installCleanupHandlers(() => fs.rmSync(tmpDir, { recursive: true, force: true }));
  const ctx = {
    plan,
    loader: chooseLoader('wrk'),
    tmpDir,
    upstream: null,
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-interval=${interval}`],
  };
  try {
    ctx.upstream = await launchUpstream(ctx);
    const t = await launchTarget(def, ctx);
    const problem = checkAnswer(def, await httpGet(t.url, t.headers, 5000));
    if (problem) {
      throw new Error(`${def.label} does not proxy correctly: ${problem}`);
    }
    const load = { url: t.url, headers: t.headers, connections: opts.connections, threads: 1 };
    await runLoad(ctx.loader, plan, { ...load, duration: 3 }); // warm-up, also profiled
    const before = cpuSnapshot(t.child.proc.pid);
    const from = Number(process.hrtime.bigint() / 1000n);
    const result = await runLoad(ctx.loader, plan, { ...load, duration: seconds });
    const to = Number(process.hrtime.bigint() / 1000n);
    const cpu = cpuDelta(before, cpuSnapshot(t.child.proc.pid));
    log(
      `${def.label}: ${result.requests} requests in ${seconds} s, ` +
        `${((cpu.cpuSecs * 1e6) / result.requests).toFixed(1)} µs CPU/request (with the profiler on)`,
    );
    // The profile is written as the process exits normally: the gateway on SIGTERM, the bench's
    // own servers when their IPC channel closes (SIGTERM would kill them outright).
    if (t.child.proc.connected) {
      const gone = new Promise((resolve) => t.child.proc.once('exit', resolve));
      t.child.proc.disconnect();
      await gone;
    } else {
      await stopChild(t.child, 15_000);
    }
    const file = fs.readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) {
      throw new Error(`no profile written in ${profDir}`);
    }
    log(`profile: ${path.join(profDir, file)}`);
    summarise(JSON.parse(fs.readFileSync(path.join(profDir, file), 'utf8')), top, [from, to]);
  } finally {
    await stopAll();
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`profile failed: ${err.stack || err}\n`);
    process.exit(1);
  },
);
