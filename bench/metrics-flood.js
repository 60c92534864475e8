'use strict';
// One client hammers GET /metrics while another sends ordinary proxied requests: how much does
// the flood cost the other client, and the gateway's CPU? Runs the built gateway
// (dist/main.js, or GATEWAY_MAIN) as its own process, on 127.0.0.1 only, bounded in time.
//
//   npm run build && node bench/metrics-flood.js
//   FLOOD_SECONDS=10 FLOOD_CONNECTIONS=32 node bench/metrics-flood.js
//
// Prints a JSON line: the other client's p50/p99 before and during the flood, the flooder's
// answers by status, and the gateway's CPU share during each phase.

const { spawn } = require('node:child_process');
const { readFileSync } = require('node:fs');
const http = require('node:http');
const { join } = require('node:path');
const { performance } = require('node:perf_hooks');

const MAIN = process.env.GATEWAY_MAIN ?? join(__dirname, '..', 'dist', 'main.js');
const SECONDS = Number(process.env.FLOOD_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.FLOOD_CONNECTIONS ?? 32);
const SAMPLES = Number(process.env.FLOOD_SAMPLES ?? 300);
const FLOODER = '127.0.0.20';
const OTHER = '127.0.0.21';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function listen(server) {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(server.address().port)),
  );
}

function get(port, path, agent) {
  return new Promise((resolve) => {
    const started = performance.now();
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: performance.now() - started }));
    });
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started }));
  });
}

/** CPU seconds (user + system) of a process so far, from /proc. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** `SAMPLES` sequential proxied requests from the well-behaved client: p50/p99 in ms. */
async function otherClient(port) {
  const agent = new http.Agent({ keepAlive: true, localAddress: OTHER, maxSockets: 1 });
  const ms = [];
  const statuses = {};
  for (let i = 0; i < SAMPLES; i++) {
    const r = await get(port, `/api/item/${i}`, agent);
    ms.push(r.ms);
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    // About 70 requests a second: well inside the default per-IP budget (100/s).
    await sleep(12);
  }
  agent.destroy();
  ms.sort((a, b) => a - b);
  return {
    p50: Number(percentile(ms, 50).toFixed(2)),
    p99: Number(percentile(ms, 99).toFixed(2)),
    statuses,
  };
}

async function main() {
  const upstream = http.createServer((_req, res) => res.end('ok'));
  const upPort = await listen(upstream);
  const probe = http.createServer();
  const port = await listen(probe);
  await new Promise((r) => probe.close(r));
  const gw = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH,
      GATEWAY_PORT: `127.0.0.1:${port}`,
      NO_DASHBOARD: '1',
      LOG_LEVEL: 'warn',
      ENABLE_CACHING: 'false',
      SERVICE_ROUTES: JSON.stringify([
        { name: 'api', prefix: '/api', target_url: `http://127.0.0.1:${upPort}` },
      ]),
    },
    stdio: 'ignore',
  });
  try {
    for (let i = 0; i < 200; i++) {
      if (
        (await get(port, '/health/live', new http.Agent({ localAddress: '127.0.0.22' }))).status ===
        200
      ) {
        break;
      }
      await sleep(100);
    }
    const cpu0 = cpuSeconds(gw.pid);
    const t0 = performance.now();
    const before = await otherClient(port);
    const baselineCpu = (cpuSeconds(gw.pid) - cpu0) / ((performance.now() - t0) / 1000);

    const flood = {};
    let stop = false;
    const loops = Array.from({ length: CONNECTIONS }, async () => {
      const agent = new http.Agent({ keepAlive: true, localAddress: FLOODER, maxSockets: 1 });
      while (!stop) {
        const r = await get(port, '/metrics', agent);
        flood[r.status] = (flood[r.status] ?? 0) + 1;
      }
      agent.destroy();
    });
    await sleep(500);
    const cpu1 = cpuSeconds(gw.pid);
    const t1 = performance.now();
    const during = await otherClient(port);
    const floodCpu = (cpuSeconds(gw.pid) - cpu1) / ((performance.now() - t1) / 1000);
    const remaining = SECONDS * 1000 - (performance.now() - t1);
    if (remaining > 0) {
      await sleep(remaining);
    }
    stop = true;
    await Promise.all(loops);
    console.log(
      JSON.stringify({
        gateway: MAIN,
        connections: CONNECTIONS,
        otherClient: { before, during },
        flooder: flood,
        gatewayCpuShare: {
          before: Number(baselineCpu.toFixed(2)),
          during: Number(floodCpu.toFixed(2)),
        },
      }),
    );
  } finally {
    gw.kill('SIGTERM');
    upstream.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
