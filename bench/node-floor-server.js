'use strict';
// The floor for any Node.js gateway on this machine: node:http in front of an undici Pool, the
// same two libraries the gateway streams through, and nothing else (no framework, no routing,
// no checks, no logging). Whatever a Node.js proxy adds costs on top of this, so its req/s and
// p99 bound what a Node gateway can reach against nginx here (issue 3's ratio goals).
// Usage: node bench/node-floor-server.js <port> <upstream-url>

const http = require('node:http');
const { Pool } = require('undici');
const { proxyTo } = require('./floor-proxy');

function main() {
  const port = Number(process.argv[2]);
  const pool = new Pool(process.argv[3], { connections: 128, pipelining: 1 });

  const server = http.createServer(proxyTo(pool));
  server.keepAliveTimeout = 65_000;
  server.listen(port, '127.0.0.1', () => {
    process.stdout.write(`listening on 127.0.0.1:${port}\n`);
  });
  process.on('disconnect', () => process.exit(0));
}

main();
