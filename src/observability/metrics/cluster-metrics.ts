import nodeCluster, { type Worker } from 'node:cluster';
import {
  AggregatorRegistry,
  register,
  type MetricObjectWithValues,
  type MetricValue,
} from 'prom-client';

/**
 * `GATEWAY_WORKERS > 1`: every worker has its own registry, and a scrape reaches whichever worker
 * the primary hands the connection to, so counters would jump between workers' values. Instead
 * the worker that serves `/metrics` asks the primary, which collects every worker's metrics over
 * the cluster IPC channel and merges them with prom-client's aggregators (counters and
 * histograms summed, gauges by their own rule), and answers with one registry's worth.
 * Plain objects only: nothing here loads Nest, so the primary stays light.
 */

type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

const ASK = 'gateway:metrics:ask';
const COLLECT = 'gateway:metrics:collect';
const LOCAL = 'gateway:metrics:local';
const ANSWER = 'gateway:metrics:answer';

interface Message {
  type?: unknown;
  id?: number;
  metrics?: MetricsJson;
}

/** The part of node:cluster the primary side uses (a fake in tests). */
export interface ClusterPrimaryLike {
  on(event: 'message', listener: (worker: Worker, message: unknown) => void): unknown;
  readonly workers?: NodeJS.Dict<Worker>;
}

/**
 * Primary side: answers a worker's request with the merged metrics of every connected worker.
 * A worker that does not answer within `timeoutMs` is left out of that scrape.
 */
export function serveClusterMetrics(cluster: ClusterPrimaryLike, timeoutMs = 2000): void {
  let seq = 0;
  const pending = new Map<
    number,
    { asker: Worker; askId: number; expected: number; got: MetricsJson[]; timer: NodeJS.Timeout }
  >();
  const finish = (id: number): void => {
    const p = pending.get(id);
    if (!p) {
      return;
    }
    pending.delete(id);
    clearTimeout(p.timer);
    let metrics: MetricsJson = [];
    try {
      metrics = mergeMetrics(p.got);
    } catch {
      // An unknown aggregator from a newer worker: answer empty rather than crash the primary.
    }
    if (p.asker.isConnected()) {
      p.asker.send({ type: ANSWER, id: p.askId, metrics });
    }
  };
  cluster.on('message', (worker, raw) => {
    const message = raw as Message | null;
    if (message?.type === ASK && typeof message.id === 'number') {
      const id = ++seq;
      const workers = Object.values(cluster.workers ?? {}).filter(
        (w): w is Worker => w !== undefined && w.isConnected(),
      );
      const timer = setTimeout(() => finish(id), timeoutMs);
      timer.unref();
      pending.set(id, {
        asker: worker,
        askId: message.id,
        expected: workers.length,
        got: [],
        timer,
      });
      for (const w of workers) {
        w.send({ type: COLLECT, id });
      }
      if (workers.length === 0) {
        finish(id);
      }
    } else if (message?.type === LOCAL && typeof message.id === 'number' && message.metrics) {
      const p = pending.get(message.id);
      if (p) {
        p.got.push(message.metrics);
        if (p.got.length === p.expected) {
          finish(message.id);
        }
      }
    }
  });
}

/** prom-client's cluster aggregation of several registries' JSON into one. */
export function mergeMetrics(all: MetricsJson[]): MetricsJson {
  const merged = AggregatorRegistry.aggregate(all);
  // Values are plain data by now: `get()` of an aggregated metric returns it synchronously.
  return merged
    .getMetricsAsArray()
    .map((m) => (m as unknown as { get(): MetricsJson[number] }).get());
}

/** Worker side: answers the primary's collections and asks it for the merged metrics. */
export class ClusterMetricsClient {
  private seq = 0;
  private readonly waiting = new Map<number, (metrics: MetricsJson | undefined) => void>();
  private installed = false;

  constructor(
    private readonly proc: Pick<NodeJS.Process, 'on' | 'send'> = process,
    private readonly isWorker = nodeCluster.isWorker,
  ) {}

  /** Whether metrics should be fetched from the primary. */
  get enabled(): boolean {
    return this.isWorker && typeof this.proc.send === 'function';
  }

  install(): void {
    if (this.installed || !this.enabled) {
      return;
    }
    this.installed = true;
    this.proc.on('message', (raw: unknown) => {
      const message = raw as Message | null;
      if (message?.type === COLLECT && typeof message.id === 'number') {
        const id = message.id;
        void register.getMetricsAsJSON().then((metrics) => {
          this.proc.send?.({ type: LOCAL, id, metrics });
        });
      } else if (message?.type === ANSWER && typeof message.id === 'number') {
        this.waiting.get(message.id)?.(message.metrics);
        this.waiting.delete(message.id);
      }
    });
  }

  /** The whole cluster's metrics, or undefined when the primary did not answer in time. */
  fetch(timeoutMs = 3000): Promise<MetricsJson | undefined> {
    const id = ++this.seq;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve(undefined);
      }, timeoutMs);
      this.waiting.set(id, (metrics) => {
        clearTimeout(timer);
        resolve(metrics);
      });
      try {
        this.proc.send?.({ type: ASK, id });
      } catch {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(undefined);
      }
    });
  }
}

/** This process's client (workers answer the primary as soon as the metrics module loads). */
export const clusterMetrics = new ClusterMetricsClient();
