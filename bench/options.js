'use strict';
// Benchmark knobs. Defaults give the published run (~3 min); env overrides make quick runs,
// e.g. BENCH_DURATION=2 BENCH_ROUNDS=1 BENCH_WARMUP=1 BENCH_TARGETS=direct,gateway.

function intFromEnv(name, fallback, min) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') {
    return fallback;
  }
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  }
  return value;
}

function listFromEnv(name) {
  const raw = process.env[name];
  if (!raw) {
    return null;
  }
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function readOptions() {
  const connections = intFromEnv('BENCH_CONNECTIONS', 50, 1);
  const threads = intFromEnv('BENCH_THREADS', 1, 1);
  return {
    // Seconds per measured run, and per warm-up run (one warm-up per target, before round 1).
    duration: intFromEnv('BENCH_DURATION', 10, 1),
    warmup: intFromEnv('BENCH_WARMUP', 3, 0),
    rounds: intFromEnv('BENCH_ROUNDS', 3, 1),
    connections,
    // One wrk thread is enough for ~100k req/s and keeps the load side on one core.
    threads: Math.min(threads, connections),
    // Fixed-rate phase (issue 3: p99 at 2,000 req/s): off unless BENCH_RATE is set.
    rate: intFromEnv('BENCH_RATE', 0, 0),
    // Idle keep-alive connections opened against each gateway target after the load phases,
    // to measure their memory cost (issue 3); 0 skips the phase.
    idleConnections: intFromEnv('BENCH_IDLE_CONNECTIONS', 10000, 0),
    // Target ids to run (see targets.js); null means every target marked `byDefault`.
    targets: listFromEnv('BENCH_TARGETS'),
    // 'wrk' | 'autocannon' | '' (auto: wrk when installed).
    loader: process.env.BENCH_LOADER || '',
    // Seconds to pause between runs so sockets from the previous run settle.
    settle: 1,
    // Before each run, wait up to this many seconds for other processes on the machine to go
    // quiet (shared 2-core machines: a parallel build skews a run by tens of percent).
    quietWait: intFromEnv('BENCH_QUIET_WAIT', 15, 0),
  };
}

module.exports = { readOptions };
