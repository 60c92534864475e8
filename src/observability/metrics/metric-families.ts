import { register, type Metric, type MetricObjectWithValues, type MetricValue } from 'prom-client';

type Values = MetricObjectWithValues<MetricValue<string>>;

/**
 * Metric families for the proxy's hot path. prom-client's `labels(...).inc()` hashes and
 * validates the label object on every call (~0.3 µs, several times per request); here a caller
 * keeps the child it got once (per route, per upstream) and an increment is one addition. The
 * families implement the small interface prom-client's registry reads (`name`, `type`, `get`,
 * `reset`), so they are exported by the same `/metrics` as every other metric.
 */
abstract class Family<C> {
  readonly aggregator = 'sum' as const;
  protected readonly children = new Map<string, C>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  /** The child for these label values (created once; keep it, do not call this per request). */
  child(...values: string[]): C {
    if (values.length !== this.labelNames.length) {
      throw new Error(`${this.name}: expected ${this.labelNames.length} label values`);
    }
    const key = values.join('\u0000');
    let child = this.children.get(key);
    if (!child) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i]));
      child = this.create(labels);
      this.children.set(key, child);
    }
    return child;
  }

  /** Number of label sets (series) held. */
  get size(): number {
    return this.children.size;
  }

  protected abstract create(labels: Record<string, string>): C;
}

export class CounterChild {
  value = 0;
  constructor(readonly labels: Record<string, string>) {}
  inc(n = 1): void {
    this.value += n;
  }
}

export class CounterFamily extends Family<CounterChild> {
  readonly type = 'counter' as const;

  protected create(labels: Record<string, string>): CounterChild {
    return new CounterChild(labels);
  }

  get(): Promise<Values> {
    const values: MetricValue<string>[] = [];
    for (const c of this.children.values()) {
      values.push({ labels: c.labels, value: c.value });
    }
    return Promise.resolve(this.object(values));
  }

  reset(): void {
    for (const c of this.children.values()) {
      c.value = 0;
    }
  }

  protected object(values: MetricValue<string>[]): Values {
    return {
      name: this.name,
      help: this.help,
      type: this.type as unknown as Values['type'],
      aggregator: this.aggregator,
      values,
    } as Values;
  }
}

export class HistogramChild {
  /** Per-bucket (not cumulative) counts; the last slot is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Record<string, string>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]) {
      i++;
    }
    this.counts[i]++;
    this.sum += v;
    this.count++;
  }
}

export class HistogramFamily extends Family<HistogramChild> {
  readonly type = 'histogram' as const;

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly bounds: readonly number[],
  ) {
    super(name, help, labelNames);
  }

  protected create(labels: Record<string, string>): HistogramChild {
    return new HistogramChild(labels, this.bounds);
  }

  get(): Promise<Values> {
    const values: (MetricValue<string> & { metricName: string })[] = [];
    const bucket = `${this.name}_bucket`;
    for (const c of this.children.values()) {
      let acc = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        acc += c.counts[i];
        const le = i < this.bounds.length ? this.bounds[i] : '+Inf';
        values.push({ labels: { ...c.labels, le }, value: acc, metricName: bucket });
      }
      values.push({ labels: c.labels, value: c.sum, metricName: `${this.name}_sum` });
      values.push({ labels: c.labels, value: c.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: 'histogram',
      aggregator: this.aggregator,
      values,
    } as unknown as Values);
  }

  reset(): void {
    for (const c of this.children.values()) {
      c.counts.fill(0);
      c.sum = 0;
      c.count = 0;
    }
  }
}

/**
 * A counter or gauge whose values are read from their source at scrape time (Upstream.inFlight,
 * IpFilterService.blockedIpsTotal): nothing at all happens per request.
 */
export class CallbackFamily {
  readonly aggregator = 'sum' as const;
  private readonly sources = new Set<
    () => Iterable<[labelValues: readonly string[], value: number]>
  >();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge',
    readonly labelNames: readonly string[],
  ) {}

  /** Adds a source (one per running app); returns its removal. */
  addSource(source: () => Iterable<[readonly string[], number]>): () => void {
    this.sources.add(source);
    return () => this.sources.delete(source);
  }

  get(): Promise<Values> {
    // Several apps in one process (tests) add up, as one process's series should.
    const sums = new Map<string, { labels: Record<string, string>; value: number }>();
    if (this.labelNames.length === 0) {
      sums.set('', { labels: {}, value: 0 });
    }
    for (const source of this.sources) {
      for (const [values, value] of source()) {
        const key = values.join('\u0000');
        let entry = sums.get(key);
        if (!entry) {
          const labels: Record<string, string> = {};
          this.labelNames.forEach((n, i) => (labels[n] = values[i]));
          entry = { labels, value: 0 };
          sums.set(key, entry);
        }
        entry.value += value;
      }
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: [...sums.values()],
    } as unknown as Values);
  }

  reset(): void {
    // Values belong to their sources.
  }
}

/**
 * Registers a family in prom-client's default registry once per process (several apps in one
 * test process share it, as they share the default collectors) and returns the registered one.
 */
export function registerFamily<T extends { name: string }>(family: T): T {
  const existing = register.getSingleMetric(family.name) as unknown as T | undefined;
  if (existing) {
    return existing;
  }
  register.registerMetric(family as unknown as Metric);
  return family;
}
