import type { Dispatcher } from 'undici';
import type { UpstreamExchange } from '../proxy/upstream-exchange';

/** What the cache needs from the proxy (implemented by ProxyService). */
export interface CacheHost {
  /** Sends the admitted request upstream (the cache missed, or will revalidate). */
  proceed(exchange: UpstreamExchange): void;
  /**
   * A GET to the route's upstream for a background refresh (stale-while-revalidate), with the
   * client's headers minus its own conditionals, plus `extra`. No client waits on it.
   */
  fetchInBackground(
    exchange: UpstreamExchange,
    extra: Record<string, string>,
  ): Promise<Dispatcher.ResponseData>;
}
