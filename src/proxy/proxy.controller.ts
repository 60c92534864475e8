import { All, Controller, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProxyService } from './proxy.service';

/**
 * Catch-all for every path the gateway does not answer itself. Fastify's router prefers the
 * gateway's static routes (/health, /admin/…) over this wildcard whatever the registration order.
 */
@Controller()
export class ProxyController {
  constructor(private readonly proxy: ProxyService) {}

  // find-my-way's wildcard (Fastify does not use path-to-regexp's `{*path}` syntax).
  @All('*')
  forward(@Req() req: FastifyRequest, @Res() reply: FastifyReply): void {
    // The proxy streams on the raw Node objects; tell Fastify it must not send anything itself.
    reply.hijack();
    this.proxy.handle(req.raw, reply.raw);
  }
}
