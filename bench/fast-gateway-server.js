'use strict';
// fast-gateway 5 (restana + fast-proxy-lite), configured as a bare proxy: the reference Node.js
// gateway that issue 3 compares against. No middlewares, no services.json endpoint.
// Usage: node bench/fast-gateway-server.js <port> <upstream-url>

const gateway = require('fast-gateway');

function main() {
  const port = Number(process.argv[2]);
  const target = process.argv[3];
  const server = gateway({
    enableServicesEndpoint: false,
    routes: [
      // prefixRewrite equal to prefix: the upstream sees the same path the client sent.
      { prefix: '/bench', prefixRewrite: '/bench', target },
    ],
  });
  server.start(port, '127.0.0.1').then(
    () => process.stdout.write(`listening on 127.0.0.1:${port}\n`),
    (err) => {
      process.stderr.write(`fast-gateway failed to start: ${err.stack || err}\n`);
      process.exit(1);
    },
  );
  process.on('disconnect', () => process.exit(0));
}

main();
