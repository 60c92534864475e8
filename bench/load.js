'use strict';
// Load generators. wrk (Debian's package) is preferred: it is C, cheap on the shared load core,
// and measures latency in microseconds. autocannon is the fallback when wrk is missing; it
// records latency in whole milliseconds, so its p50/p99 are coarse.
//
// Both return the same shape:
//   { tool, requests, durationSecs, rps, latencyMs: {p50, p90, p99, max}, errors: {...} }

const { spawn } = require('node:child_process');
const path = require('node:path');
const { pinnedCommand, track, which } = require('./processes');

const LUA_SCRIPT = path.join(__dirname, 'wrk-report.lua');
const AUTOCANNON = path.join(__dirname, '..', 'node_modules', 'autocannon', 'autocannon.js');
// A run is killed this long after its planned end: a load generator must never hang the bench.
const OVERRUN_MS = 20_000;

function chooseLoader(preferred) {
  const wrk = which('wrk');
  if (preferred === 'autocannon' || (!wrk && preferred !== 'wrk')) {
    return { tool: 'autocannon', bin: process.execPath };
  }
  if (!wrk) {
    throw new Error('BENCH_LOADER=wrk but wrk is not installed (apt-get install wrk)');
  }
  return { tool: 'wrk', bin: wrk };
}

/** Run a command to completion with a hard deadline; resolve with its stdout. */
function runBounded(plan, cpu, cmd, args, env, deadlineMs, onSpawn) {
  return new Promise((resolve, reject) => {
    const pinned = pinnedCommand(plan, cpu, cmd, args);
    const proc = spawn(pinned.cmd, pinned.args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    track(path.basename(cmd), proc);
    if (onSpawn) {
      onSpawn(proc);
    }
    let out = '';
    let err = '';
    proc.stdout.on('data', (c) => (out += c));
    proc.stderr.on('data', (c) => (err += c));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${cmd} overran its ${deadlineMs} ms deadline`));
    }, deadlineMs);
    proc.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) {
        resolve(out);
      } else {
        reject(new Error(`${cmd} exited with ${code ?? signal}: ${err.trim() || out.trim()}`));
      }
    });
  });
}

function wrkArgs(run) {
  const args = [
    '-t',
    String(run.threads),
    '-c',
    String(run.connections),
    '-d',
    `${run.duration}s`,
    '--timeout',
    '5s',
    '-s',
    LUA_SCRIPT,
  ];
  for (const [k, v] of Object.entries(run.headers || {})) {
    args.push('-H', `${k}: ${v}`);
  }
  args.push(run.url);
  return args;
}

function parseWrk(stdout) {
  const line = stdout.split('\n').find((l) => l.startsWith('BENCH_WRK '));
  if (!line) {
    throw new Error(`wrk printed no BENCH_WRK line:\n${stdout}`);
  }
  const r = JSON.parse(line.slice('BENCH_WRK '.length));
  const durationSecs = r.duration_us / 1e6;
  const ms = (us) => us / 1000;
  return {
    tool: 'wrk',
    requests: r.requests,
    durationSecs,
    rps: r.requests / durationSecs,
    latencyMs: {
      p50: ms(r.latency_us.p50),
      p90: ms(r.latency_us.p90),
      p99: ms(r.latency_us.p99),
      max: ms(r.latency_us.max),
    },
    errors: {
      connect: r.errors.connect,
      read: r.errors.read,
      write: r.errors.write,
      timeout: r.errors.timeout,
      non2xx: r.errors.status,
    },
  };
}

function autocannonArgs(run) {
  const args = [
    AUTOCANNON,
    '--json',
    '-c',
    String(run.connections),
    '-d',
    String(run.duration),
    '-t',
    '5',
  ];
  if (run.rate) {
    args.push('-R', String(run.rate));
  }
  for (const [k, v] of Object.entries(run.headers || {})) {
    args.push('-H', `${k}=${v}`);
  }
  args.push(run.url);
  return args;
}

function parseAutocannon(stdout) {
  const line = stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (!line) {
    throw new Error(`autocannon printed no JSON:\n${stdout}`);
  }
  const r = JSON.parse(line);
  return {
    tool: 'autocannon',
    requests: r.requests.total,
    durationSecs: r.duration,
    rps: r.requests.total / r.duration,
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
    errors: {
      connect: 0,
      read: r.errors - r.timeouts,
      write: 0,
      timeout: r.timeouts,
      non2xx: r.non2xx,
    },
  };
}

/**
 * One load run against `run.url`: { url, headers, duration, connections, threads, rate }.
 * `onSpawn(proc)` lets the caller sample the target while the load is on.
 */
async function runLoad(loader, plan, run, onSpawn) {
  const deadline = run.duration * 1000 + OVERRUN_MS;
  if (loader.tool === 'wrk') {
    const env = { ...process.env };
    if (run.rate) {
      env.BENCH_WRK_RATE = String(run.rate);
      env.BENCH_WRK_THREADS = String(run.threads);
      env.BENCH_WRK_CONNECTIONS = String(run.connections);
    }
    const out = await runBounded(
      plan,
      plan.loadCpu,
      loader.bin,
      wrkArgs(run),
      env,
      deadline,
      onSpawn,
    );
    return parseWrk(out);
  }
  const out = await runBounded(
    plan,
    plan.loadCpu,
    loader.bin,
    autocannonArgs(run),
    process.env,
    deadline,
    onSpawn,
  );
  return parseAutocannon(out);
}

module.exports = { chooseLoader, runLoad };
