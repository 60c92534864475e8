'use strict';
/**
 * A real upstream in its own process, for the safe-defaults cases. Forked by
 * `upstream-process.ts` with IPC; listens on 127.0.0.1 (`UPSTREAM_PORT`, 0 for any) and reports
 * `{ event: 'listening', port }`.
 *
 * Answers every request with 200 and a JSON body naming itself (`UPSTREAM_NAME`), except:
 * - with `UPSTREAM_SCRIPT=flaky`, the n-th request it receives (whatever the path) gets the
 *   status at n % 100 of a 100-step script: 20 answers in 100 are 500/502/503/504, including a
 *   run of 10 consecutive 500s and a run of 5 consecutive 503s. Error bodies are the upstream's
 *   own JSON with `x-upstream-error`, so the client can tell them from the gateway's.
 * - while hanging (IPC `{ cmd: 'hang' }`), requests are read and counted but never answered;
 *   `{ cmd: 'unhang' }` answers the held ones and goes back to normal.
 * - `{ cmd: 'refuse' }` closes the listener (new connections are refused) and the idle
 *   keep-alive connections; requests in progress finish.
 *
 * Every request is counted before anything else: `{ cmd: 'hits' }` replies
 * `{ event: 'hits', hits: ['METHOD path', ...] }`.
 */
const http = require('node:http');

const NAME = process.env.UPSTREAM_NAME || 'upstream';
const SCRIPT = process.env.UPSTREAM_SCRIPT || '';
const FLAKY = buildFlakyScript();

/** 100 statuses: 80 × 200 and 20 failures, two of them runs. */
function buildFlakyScript() {
  const s = new Array(100).fill(200);
  for (let i = 10; i < 20; i++) s[i] = 500; // 10 × 500 in a row
  for (let i = 40; i < 45; i++) s[i] = 503; // 5 × 503 in a row
  s[3] = 502;
  s[27] = 504;
  s[33] = 500;
  s[58] = 502;
  s[66] = 504;
  s[88] = 503;
  return s;
}

const hits = [];
const held = [];
let hanging = false;
let n = 0;

function answer(req, res) {
  if (SCRIPT === 'flaky') {
    const status = FLAKY[n++ % FLAKY.length];
    if (status !== 200) {
      const body = JSON.stringify({ upstream: NAME, own: true, status, path: req.url });
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'x-upstream-error': String(status),
      });
      res.end(body);
      return;
    }
  }
  const body = JSON.stringify({ upstream: NAME, path: req.url });
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

const server = http.createServer((req, res) => {
  hits.push(`${req.method} ${req.url}`);
  req.resume();
  req.on('end', () => {
    if (hanging) {
      held.push([req, res]);
      return;
    }
    answer(req, res);
  });
});
server.keepAliveTimeout = 60_000;

process.on('message', (msg) => {
  switch (msg && msg.cmd) {
    case 'hits':
      process.send({ event: 'hits', hits });
      return;
    case 'hang':
      hanging = true;
      process.send({ event: 'hanging' });
      return;
    case 'unhang':
      hanging = false;
      for (const [req, res] of held.splice(0)) {
        if (!res.destroyed) answer(req, res);
      }
      process.send({ event: 'unhung' });
      return;
    case 'refuse':
      server.close();
      server.closeIdleConnections();
      process.send({ event: 'refusing' });
      return;
    default:
      return;
  }
});
// The parent went away (a test crashed): do not outlive it.
process.on('disconnect', () => process.exit(0));

server.listen(Number(process.env.UPSTREAM_PORT || 0), '127.0.0.1', () => {
  process.send({ event: 'listening', port: server.address().port });
});
