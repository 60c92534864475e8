'use strict';
// The floor for the stack issue 3 decided on: NestJS 11 on @nestjs/platform-fastify with one
// catch-all controller that hands the raw request to an undici Pool, and nothing else (no guard,
// no checks, no logging, no metrics). The gateway's pipeline costs on top of this; compare it
// with bench/node-floor-server.js (the same proxying without Nest and Fastify) to see what the
// framework itself costs per request on this machine.
// With `memory` as a third argument it answers the upstream's body from memory instead, with no
// upstream at all: the floor under any cache HIT path on this stack.
// With `fastify-route` the same Nest app has no controller: the catch-all is a route registered
// on its Fastify instance, so requests skip Nest's router (execution context, guards, pipes,
// filters) and show what that machinery costs per request.
// Usage: node bench/nest-floor-server.js <port> <upstream-url> [memory|fastify-route]
// Plain JavaScript, so the decorators are applied as functions.

require('reflect-metadata');
const { All, Controller, Module, Req, Res } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { FastifyAdapter } = require('@nestjs/platform-fastify');
const { Pool } = require('undici');
const { proxyTo } = require('./floor-proxy');
const { BODY } = require('./upstream');

function answerFromMemory() {
  const headers = { 'content-type': 'application/json', 'content-length': String(BODY.length) };
  return (_req, res) => {
    res.writeHead(200, headers);
    res.end(BODY);
  };
}

async function main() {
  const port = Number(process.argv[2]);
  const forward =
    process.argv[4] === 'memory'
      ? answerFromMemory()
      : proxyTo(new Pool(process.argv[3], { connections: 128, pipelining: 1 }));

  class ProxyController {
    forward(req, reply) {
      reply.hijack();
      forward(req.raw, reply.raw);
    }
  }
  const proto = ProxyController.prototype;
  Req()(proto, 'forward', 0);
  Res()(proto, 'forward', 1);
  All('*')(proto, 'forward', Object.getOwnPropertyDescriptor(proto, 'forward'));
  Controller()(ProxyController);

  const fastifyRoute = process.argv[4] === 'fastify-route';
  class FloorModule {}
  Module({ controllers: fastifyRoute ? [] : [ProxyController] })(FloorModule);

  const app = await NestFactory.create(FloorModule, new FastifyAdapter({ logger: false }), {
    logger: false,
    bodyParser: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', (_req, _payload, done) => done(null));
  if (fastifyRoute) {
    fastify.all('*', (request, reply) => {
      reply.hijack();
      forward(request.raw, reply.raw);
    });
  }
  await app.listen(port, '127.0.0.1');
  process.stdout.write(`listening on 127.0.0.1:${port}\n`);
  process.on('disconnect', () => process.exit(0));
}

main().catch((err) => {
  process.stderr.write(`nest floor failed to start: ${err.stack || err}\n`);
  process.exit(1);
});
