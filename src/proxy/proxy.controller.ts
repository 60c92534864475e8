import { All, Controller, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { EdgeGuard } from './edge.guard';
import { ProxyExceptionFilter } from './proxy-exception.filter';
import { ProxyService } from './proxy.service';

/**
 * Catch-all for every path the gateway does not answer itself. Fastify's router prefers the
 * gateway's static routes (/health, /admin/…) over this wildcard whatever the registration order.
 */
@Controller()
@ApiExcludeController()
@UseGuards(EdgeGuard)
@UseFilters(ProxyExceptionFilter)
export class ProxyController {
  constructor(private readonly proxy: ProxyService) {}

  // find-my-way's wildcard (Fastify does not use path-to-regexp's `{*path}` syntax).
  @All('*')
  forward(@Req() req: FastifyRequest, @Res() reply: FastifyReply): void {
    // The proxy streams on the raw Node objects; tell Fastify it must not send anything itself.
    reply.hijack();
    const exchange = this.proxy.exchangeOf(req.raw);
    if (exchange) {
      this.proxy.forward(exchange);
    }
  }
}
