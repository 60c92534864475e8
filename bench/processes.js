'use strict';
// Child process plumbing: free ports, CPU pinning, readiness polling, and making sure every
// child we start is gone when the harness exits — normally, on error, or on Ctrl-C.

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');

// Keep the last bytes of each child's output: enough to explain a failed start, bounded so a
// chatty child cannot grow the harness's memory during a long run.
const OUTPUT_TAIL_BYTES = 64 * 1024;

const children = new Set();

function which(cmd) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    const full = path.join(dir, cmd);
    try {
      fs.accessSync(full, fs.constants.X_OK);
      return full;
    } catch {
      // not in this directory
    }
  }
  // Debian puts nginx in /usr/sbin, which is not on every user's PATH.
  for (const dir of ['/usr/sbin', '/sbin']) {
    const full = path.join(dir, cmd);
    if (fs.existsSync(full)) {
      return full;
    }
  }
  return null;
}

// Proxy under test on CPU 0; load generator and upstream share CPU 1. With one CPU (or no
// taskset) nothing is pinned and the report says so.
function cpuPlan() {
  const cpus = Number(execFileSync('nproc', { encoding: 'utf8' }).trim()) || 1;
  const taskset = which('taskset');
  if (cpus >= 2 && taskset) {
    return { pinned: true, cpus, taskset, proxyCpu: '0', loadCpu: '1' };
  }
  return { pinned: false, cpus, taskset, proxyCpu: null, loadCpu: null };
}

function pinnedCommand(plan, cpu, cmd, args) {
  if (plan.pinned && cpu !== null) {
    // taskset execs the command, so the pid we get is the real process's pid.
    return { cmd: plan.taskset, args: ['-c', cpu, cmd, ...args] };
  }
  return { cmd, args };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function appendTail(child, chunk) {
  child.output = Buffer.concat([child.output, chunk]);
  if (child.output.length > OUTPUT_TAIL_BYTES) {
    child.output = child.output.subarray(child.output.length - OUTPUT_TAIL_BYTES);
  }
}

/**
 * Start a long-lived child. Its stdout and stderr are always drained (a full pipe would stall
 * a logging proxy and skew the numbers) into a bounded tail kept for error reports.
 */
function startChild(name, { cmd, args, env, cwd, ipc }) {
  const stdio = ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'];
  const proc = spawn(cmd, args, { env, cwd, stdio });
  const child = { name, proc, output: Buffer.alloc(0), exited: null };
  proc.stdout.on('data', (c) => appendTail(child, c));
  proc.stderr.on('data', (c) => appendTail(child, c));
  proc.on('error', (err) => {
    child.exited = { code: null, signal: null, error: err };
  });
  proc.on('exit', (code, signal) => {
    child.exited = child.exited || { code, signal };
    children.delete(child);
  });
  children.add(child);
  return child;
}

/**
 * Register a short-lived process (the load generator) so the exit and signal handlers kill it
 * too; it leaves the set by itself when it exits.
 */
function track(name, proc) {
  const child = { name, proc, output: Buffer.alloc(0), exited: null };
  children.add(child);
  proc.on('exit', () => children.delete(child));
}

function outputOf(child) {
  return child.output.toString('utf8');
}

function httpGet(url, headers, timeoutMs) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Poll `url` until it answers 200, the child dies, or `timeoutMs` passes. */
async function waitForHttp(child, url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer yet';
  while (Date.now() < deadline) {
    if (child.exited) {
      const { code, signal, error } = child.exited;
      const why = error ? `, ${error.message}` : '';
      throw withChild(
        new Error(
          `${child.name} exited before it was ready (code ${code}, signal ${signal}${why})`,
        ),
        child,
      );
    }
    try {
      const res = await httpGet(url, {}, 1000);
      if (res.status === 200) {
        return;
      }
      lastError = `HTTP ${res.status}`;
    } catch (err) {
      lastError = err.message;
    }
    await sleep(100);
  }
  throw withChild(
    new Error(`${child.name} not ready at ${url} after ${timeoutMs} ms (${lastError})`),
    child,
  );
}

// The harness prints the child's captured output when an error carries it.
function withChild(err, child) {
  err.child = child;
  return err;
}

function killNow(child) {
  try {
    child.proc.kill('SIGKILL');
  } catch {
    // already gone
  }
}

/** Polite stop: SIGTERM, then SIGKILL after `graceMs`. */
async function stopChild(child, graceMs = 3000) {
  if (child.exited) {
    return;
  }
  const gone = new Promise((resolve) => child.proc.once('exit', resolve));
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => killNow(child), graceMs);
  await gone;
  clearTimeout(timer);
}

async function stopAll() {
  await Promise.all([...children].map((c) => stopChild(c)));
}

// Last line of defence: 'exit' handlers must be synchronous, so this can only SIGKILL.
function killAllSync() {
  for (const child of children) {
    killNow(child);
  }
}

let installed = false;
function installCleanupHandlers(onSignal) {
  if (installed) {
    return;
  }
  installed = true;
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      process.stderr.write(`\n${sig}: stopping all benchmark processes\n`);
      onSignal();
      killAllSync();
      process.exit(130);
    });
  }
}

module.exports = {
  cpuPlan,
  freePort,
  httpGet,
  installCleanupHandlers,
  outputOf,
  pinnedCommand,
  sleep,
  startChild,
  stopAll,
  stopChild,
  track,
  waitForHttp,
  which,
};
