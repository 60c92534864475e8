'use strict';
// CPU time and RSS of a process tree, read from /proc. A tree, because nginx runs a master and
// a worker and the gateway may fork workers (GATEWAY_WORKERS); per-process figures are kept so
// a report can show that every worker took a share.

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');

let clockTicks = null;
function clkTck() {
  if (clockTicks === null) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      clockTicks = 0;
    }
    if (!clockTicks) {
      clockTicks = 100; // Linux's USER_HZ on every common build.
    }
  }
  return clockTicks;
}

// /proc/<pid>/stat: "pid (comm) state ppid ...". comm may contain spaces and parentheses, so
// split after the last ')'. Fields from there: [0]=state [1]=ppid ... [11]=utime [12]=stime.
function readStat(pid) {
  let text;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
}

function readRssKb(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** `root` and all its live descendants. */
function processTree(root) {
  const parentOf = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (/^\d+$/.test(name)) {
      const st = readStat(name);
      if (st) {
        parentOf.set(Number(name), st.ppid);
      }
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, ppid] of parentOf) {
      if (ppid === tree[i]) {
        tree.push(pid);
      }
    }
  }
  return tree;
}

/** A snapshot of CPU ticks per pid of the tree under `root`. */
function cpuSnapshot(root) {
  const perPid = new Map();
  for (const pid of processTree(root)) {
    const st = readStat(pid);
    if (st) {
      perPid.set(pid, st.ticks);
    }
  }
  return { at: process.hrtime.bigint(), perPid };
}

/**
 * CPU used between two snapshots, in seconds, total and per pid. A pid born in between counts
 * from zero; one that died in between is lost (rare: a crashed worker, which is reported
 * anyway).
 */
function cpuDelta(before, after) {
  const hz = clkTck();
  const perPid = {};
  let total = 0;
  for (const [pid, ticks] of after.perPid) {
    const secs = (ticks - (before.perPid.get(pid) || 0)) / hz;
    perPid[pid] = secs;
    total += secs;
  }
  const wallSecs = Number(after.at - before.at) / 1e9;
  return { cpuSecs: total, wallSecs, perPid };
}

/**
 * Machine-wide busy CPU ticks (all CPUs, from /proc/stat) and this process's own ticks plus
 * those of its reaped children (cutime/cstime: how the load generator's CPU is counted once
 * it has exited). Together with the proxy and upstream they tell how much CPU something
 * outside the benchmark took during a run.
 */
function hostSnapshot() {
  const first = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  // cpu user nice system idle iowait irq softirq steal guest guest_nice
  const f = first.trim().split(/\s+/).slice(1).map(Number);
  // irq/softirq are left out: loopback traffic of the benchmark itself is counted there.
  const busy = f[0] + f[1] + f[2];
  const steal = f[7] || 0;
  const self = fs.readFileSync('/proc/self/stat', 'utf8');
  const rest = self.slice(self.lastIndexOf(')') + 2).split(' ');
  const own = Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14]);
  return { busy, steal, own };
}

/** Seconds of CPU used machine-wide, stolen by the hypervisor, and by the harness + children. */
function hostDelta(before, after) {
  const hz = clkTck();
  return {
    busySecs: (after.busy - before.busy) / hz,
    stealSecs: (after.steal - before.steal) / hz,
    ownSecs: (after.own - before.own) / hz,
  };
}

/** RSS in MB of every process of the tree, and their sum. */
function rssSnapshot(root) {
  const perPid = {};
  let totalKb = 0;
  for (const pid of processTree(root)) {
    const kb = readRssKb(pid);
    perPid[pid] = kb / 1024;
    totalKb += kb;
  }
  return { totalMb: totalKb / 1024, perPid };
}

module.exports = {
  clkTck,
  cpuDelta,
  cpuSnapshot,
  hostDelta,
  hostSnapshot,
  processTree,
  rssSnapshot,
};
