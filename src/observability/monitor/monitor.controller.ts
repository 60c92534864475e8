import { Controller, Get, NotFoundException, Param, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { InjectGatewayConfig } from '../../config/gateway.config';
import type { GatewayConfig } from '../../config/gateway-config.types';
import { buildMonitorAssets, monitorHeaders, type MonitorAsset } from './monitor-assets';

/**
 * `GET /monitor` and its assets under `/monitor/…`, all served from memory by the gateway itself
 * (no CDN, no inline script or style), so the page works under its own CSP (seed-spec D20).
 */
@Controller('monitor')
export class MonitorController {
  private readonly assets = buildMonitorAssets();
  private readonly headers: readonly string[];

  constructor(@InjectGatewayConfig() config: GatewayConfig) {
    this.headers = monitorHeaders(config.security.securityHeaders);
  }

  @Get()
  page(@Req() req: FastifyRequest, @Res() reply: FastifyReply): void {
    this.send(req, reply, this.assets.page);
  }

  // find-my-way's wildcard also matches the empty rest, so `/monitor/` is the page too.
  @Get('*')
  asset(@Param('*') name: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply): void {
    const found = name === '' ? this.assets.page : this.assets.byName.get(name);
    if (!found) {
      throw new NotFoundException('No such monitor asset');
    }
    this.send(req, reply, found);
  }

  private send(req: FastifyRequest, reply: FastifyReply, a: MonitorAsset): void {
    for (let i = 0; i < this.headers.length; i += 2) {
      void reply.header(this.headers[i], this.headers[i + 1]);
    }
    void reply.header('etag', a.etag).header('cache-control', a.cacheControl);
    const match = req.headers['if-none-match'];
    if (match !== undefined && match.split(/\s*,\s*/).some((t) => t === a.etag || t === '*')) {
      void reply.status(304).send();
      return;
    }
    void reply.type(a.contentType).send(a.body);
  }
}
