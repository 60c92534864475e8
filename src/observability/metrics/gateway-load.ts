import type { Socket } from 'node:net';
import { Injectable } from '@nestjs/common';

/** Anything that knows how many proxied requests are in progress (ProxyService). */
export interface InFlightSource {
  readonly activeRequests: number;
}

/**
 * Open client connections and proxied requests in progress, for `active_connections`, `/stats`
 * and the dashboards. `src/gateway.ts` feeds it the server's `connection` events and hands it the
 * proxy as the in-flight source (it cannot be injected here without a module cycle).
 */
@Injectable()
export class GatewayLoad {
  private open = 0;
  inFlightSource: InFlightSource | undefined;

  get activeConnections(): number {
    return this.open;
  }

  get inFlight(): number {
    return this.inFlightSource?.activeRequests ?? 0;
  }

  /** The server's `connection` listener: bound once, no closure per connection. */
  readonly onConnection = (socket: Socket): void => {
    this.open++;
    socket.once('close', this.onClose);
  };

  private readonly onClose = (): void => {
    this.open--;
  };
}
