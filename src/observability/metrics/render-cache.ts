import { type Clock, monotonicClock } from '../../common/clock';

/**
 * Reuses a rendered answer for `ttlMs` after its rendering started, per key, and shares one
 * rendering among the requests that arrive while it runs. Scrapers poll every few seconds, so a
 * second of staleness costs them nothing, while a client polling in a loop no longer costs a
 * full render of every metric per request (exporters such as node_exporter's textfile collector
 * and Envoy's admin stats cache the same way). A failed rendering is not kept.
 */
export class RenderCache<K> {
  private readonly entries = new Map<K, { at: number; value: Promise<string> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly clock: Clock = monotonicClock,
  ) {}

  get(key: K, render: () => Promise<string>): Promise<string> {
    const now = this.clock();
    const hit = this.entries.get(key);
    if (hit !== undefined && now - hit.at < this.ttlMs) {
      return hit.value;
    }
    const value = render();
    this.entries.set(key, { at: now, value });
    value.catch(() => {
      if (this.entries.get(key)?.value === value) {
        this.entries.delete(key);
      }
    });
    return value;
  }
}
