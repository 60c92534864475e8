// Demo upstream for docker-compose: answers every request with JSON naming this instance, so
// load balancing across upstream-a / upstream-b is visible. No dependencies: runs on node:alpine.
'use strict';
const http = require('node:http');
const os = require('node:os');

const name = process.env.UPSTREAM_NAME || os.hostname();
const port = Number(process.env.PORT || 8080);

const server = http.createServer((req, res) => {
  let bytes = 0;
  req.on('data', (chunk) => (bytes += chunk.length));
  req.on('end', () => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    const body = JSON.stringify({
      upstream: name,
      method: req.method,
      url: req.url,
      headers: req.headers,
      bodyBytes: bytes,
    });
    res.writeHead(200, {
      'content-type': 'application/json',
      'cache-control': 'public, max-age=5',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });
});

server.listen(port, () => console.log(`${name} listening on :${port}`));
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
