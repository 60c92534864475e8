'use strict';
// Issue 3: "10,000 idle keep-alive connections cost < 100 MB more". Opens N client connections
// to a target, sends one request on each (so every socket has been through the full request
// path and sits in keep-alive, as a browser's would), then leaves them idle and measures the
// proxy's RSS against its RSS before. Bounded: opening has a deadline, sockets are destroyed
// at the end whatever happens.

const net = require('node:net');
const { URL } = require('node:url');
const { rssSnapshot } = require('./proc-stats');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** One connection that completed a request and stays open; resolves false on any failure. */
function openIdle(host, port, request, sockets) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    sockets.push(socket);
    let seen = '';
    const done = (ok) => {
      socket.removeAllListeners('data');
      socket.setTimeout(0);
      resolve(ok);
    };
    socket.setTimeout(10_000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk) => {
      seen += chunk.toString('latin1');
      // Small fixed bodies: the end of the headers plus a body is enough to call it answered.
      if (/^HTTP\/1\.1 200 /.test(seen) && seen.includes('\r\n\r\n')) {
        done(true);
      }
    });
  });
}

/**
 * @param {{ url: string, path: string, headers?: Record<string,string>, pid: number,
 *           count: number, batch?: number }} opts
 */
async function measureIdleConnections(opts) {
  const { hostname, port } = new URL(opts.url);
  const head = Object.entries(opts.headers || {})
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  const request = `GET ${opts.path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\n${head}\r\n`;
  const batch = opts.batch || 250;
  const sockets = [];
  try {
    await sleep(500);
    const before = rssSnapshot(opts.pid).totalMb;
    let opened = 0;
    const deadline = Date.now() + 120_000;
    for (let i = 0; i < opts.count && Date.now() < deadline; i += batch) {
      const n = Math.min(batch, opts.count - i);
      const results = await Promise.all(
        Array.from({ length: n }, () => openIdle(hostname, port, request, sockets)),
      );
      opened += results.filter(Boolean).length;
    }
    // Let the proxy settle (timers, GC) before reading its memory.
    await sleep(2000);
    const after = rssSnapshot(opts.pid).totalMb;
    const alive = sockets.filter((s) => !s.destroyed).length;
    return { requested: opts.count, opened, alive, rssBeforeMb: before, rssAfterMb: after };
  } finally {
    for (const s of sockets) {
      s.destroy();
    }
    await sleep(500);
  }
}

module.exports = { measureIdleConnections };
