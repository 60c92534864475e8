'use strict';
// The proxying both floors share (bench/node-floor-server.js, bench/nest-floor-server.js): an
// undici Pool dispatch streaming the upstream's answer into a node:http response, hop-by-hop
// headers (RFC 9110 §7.6.1) dropped both ways, and nothing else.

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

/** `(req, res) => void` that proxies a raw node:http request through `pool`. */
function proxyTo(pool) {
  return (req, res) => {
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
        onData: (chunk) => res.write(chunk),
        onComplete: () => res.end(),
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
  };
}

module.exports = { proxyTo };
