'use strict';
// The fixed upstream every target proxies to: node:http answering any request with the same
// 100-byte JSON body. Runs in its own process (pinned with the load generator) so its cost
// never lands on the core of the proxy under test.
// Usage: node bench/upstream.js <port>

const http = require('node:http');

const BODY_SIZE = 100;

function makeBody() {
  const base = { ok: true, service: 'bench-upstream', padding: '' };
  const fill = BODY_SIZE - Buffer.byteLength(JSON.stringify(base));
  base.padding = 'x'.repeat(fill);
  const body = Buffer.from(JSON.stringify(base));
  if (body.length !== BODY_SIZE) {
    throw new Error(`upstream body is ${body.length} bytes, expected ${BODY_SIZE}`);
  }
  return body;
}

const BODY = makeBody();
// Built once: the upstream should cost as little as possible per request.
const HEADERS = { 'content-type': 'application/json', 'content-length': String(BODY.length) };

function main() {
  const port = Number(process.argv[2]);
  const server = http.createServer((req, res) => {
    // Drain any request body so keep-alive keeps working for non-GET requests too.
    req.resume();
    res.writeHead(200, HEADERS);
    res.end(BODY);
  });
  // Above the proxies' idle timeouts, so pooled upstream sockets are not closed under them.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;
  server.listen(port, '127.0.0.1', () => {
    process.stdout.write(`listening on 127.0.0.1:${port}\n`);
  });
  // The harness holds an IPC channel: when it goes away (even killed hard), so do we.
  process.on('disconnect', () => process.exit(0));
}

if (require.main === module) {
  main();
}

module.exports = { BODY, makeBody };
