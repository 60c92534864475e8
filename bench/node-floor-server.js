'use strict';
// The floor for any Node.js gateway on this machine: node:http in front of an undici Pool, the
// same two libraries the gateway streams through, and nothing else (no framework, no routing,
// no checks, no logging). Whatever a Node.js proxy adds costs on top of this, so its req/s and
// p99 bound what a Node gateway can reach against nginx here (issue 3's ratio goals).
// Usage: node bench/node-floor-server.js <port> <upstream-url>

const http = require('node:http');
const { Pool } = require('undici');

// Hop-by-hop headers (RFC 9110 §7.6.1) are not forwarded, as every proxy must.
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

function main() {
  const port = Number(process.argv[2]);
  const pool = new Pool(process.argv[3], { connections: 128, pipelining: 1 });

  const server = http.createServer((req, res) => {
    const headers = {};
    for (const name of Object.keys(req.headers)) {
      if (!HOP.has(name)) {
        headers[name] = req.headers[name];
      }
    }
    pool.dispatch(
      { method: req.method, path: req.url, headers, body: req.method === 'GET' ? null : req },
      {
        onConnect() {},
        onHeaders(status, raw, resume) {
          const out = [];
          for (let i = 0; i < raw.length; i += 2) {
            const name = raw[i].toString('latin1');
            if (!HOP.has(name.toLowerCase())) {
              out.push(name, raw[i + 1].toString('latin1'));
            }
          }
          res.writeHead(status, out);
          res.on('drain', resume);
          return true;
        },
        onData(chunk) {
          return res.write(chunk);
        },
        onComplete() {
          res.end();
        },
        onError(err) {
          if (res.headersSent) {
            res.destroy(err);
          } else {
            res.writeHead(502, { 'content-type': 'application/json' });
            res.end('{"error":"bad gateway"}');
          }
        },
      },
    );
  });
  server.keepAliveTimeout = 65_000;
  server.listen(port, '127.0.0.1', () => {
    process.stdout.write(`listening on 127.0.0.1:${port}\n`);
  });
  process.on('disconnect', () => process.exit(0));
}

main();
