import { Injectable, type BeforeApplicationShutdown, type OnModuleDestroy } from '@nestjs/common';

/**
 * Whether the gateway has started to shut down. `/health/ready` answers 503 from the moment it
 * is set, while the listener still accepts connections, so load balancers and Kubernetes stop
 * sending traffic before connections start being refused.
 *
 * `gateway.close()` calls {@link markShuttingDown} first; the lifecycle hooks are the fallback
 * for any other path to `app.close()` (they run before Nest closes the HTTP server).
 *
 * @publicApi
 */
@Injectable()
export class ShutdownState implements OnModuleDestroy, BeforeApplicationShutdown {
  private shuttingDown = false;

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Idempotent. */
  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  onModuleDestroy(): void {
    this.markShuttingDown();
  }

  beforeApplicationShutdown(): void {
    this.markShuttingDown();
  }
}
