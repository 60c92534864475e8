import type { RouteConfig } from '../config/gateway-config.types';
import type { UpstreamGroup } from '../load-balancing/upstream-group';

/** A configured route with everything the hot path needs resolved ahead of time. */
export interface CompiledRoute {
  readonly name: string;
  readonly config: RouteConfig;
  readonly stripPrefix: boolean;
  readonly preserveHost: boolean;
  readonly timeoutMs: number;
  /** Per-route body limit in bytes; undefined means the gateway default (`MAX_BODY_SIZE`). */
  readonly maxBodyBytes: number | undefined;
  readonly group: UpstreamGroup;
}
