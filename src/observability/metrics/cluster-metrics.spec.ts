import type { Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import { Counter, Gauge, Registry } from 'prom-client';
import { ClusterMetricsClient, mergeMetrics, serveClusterMetrics } from './cluster-metrics';

async function workerMetrics(requests: number, connections: number) {
  const reg = new Registry();
  new Counter({ name: 'req_total', help: 'r', labelNames: ['route'], registers: [reg] }).inc(
    { route: 'api' },
    requests,
  );
  new Gauge({ name: 'conns', help: 'c', registers: [reg] }).set(connections);
  new Gauge({ name: 'health', help: 'h', aggregator: 'min', registers: [reg] }).set(
    connections > 0 ? 1 : 0,
  );
  return reg.getMetricsAsJSON();
}

type Sent = { type: string; id: number; metrics?: unknown };

describe('cluster metrics', () => {
  it('should merge workers: counters and gauges summed, gauges with their own rule', async () => {
    const merged = mergeMetrics([await workerMetrics(3, 2), await workerMetrics(4, 0)]);
    const byName = Object.fromEntries(merged.map((m) => [m.name, m.values]));
    expect(byName.req_total).toEqual([{ labels: { route: 'api' }, value: 7 }]);
    expect(byName.conns[0].value).toBe(2);
    expect(byName.health[0].value).toBe(0);
  });

  it('should collect every connected worker for the asking one and answer with the merge', async () => {
    const cluster = new EventEmitter() as EventEmitter & { workers: NodeJS.Dict<Worker> };
    const sent = new Map<number, Sent[]>();
    const fakeWorker = (n: number, requests: number, answers = true): Worker => {
      sent.set(n, []);
      const w = {
        isConnected: () => true,
        send: (m: Sent) => {
          sent.get(n)!.push(m);
          if (m.type === 'gateway:metrics:collect' && answers) {
            void workerMetrics(requests, 1).then((metrics) =>
              cluster.emit('message', w, { type: 'gateway:metrics:local', id: m.id, metrics }),
            );
          }
          return true;
        },
      } as unknown as Worker;
      return w;
    };
    cluster.workers = { 1: fakeWorker(1, 5), 2: fakeWorker(2, 6), 3: fakeWorker(3, 0, false) };
    serveClusterMetrics(cluster, 200);
    cluster.emit('message', cluster.workers[1], { type: 'gateway:metrics:ask', id: 42 });
    // Worker 3 never answers: the answer comes after the timeout, without it.
    await new Promise((r) => setTimeout(r, 400));
    const answer = sent.get(1)!.find((m) => m.type === 'gateway:metrics:answer');
    expect(answer?.id).toBe(42);
    const metrics = answer!.metrics as { name: string; values: { value: number }[] }[];
    expect(metrics.find((m) => m.name === 'req_total')?.values[0].value).toBe(11);
    expect(sent.get(2)!.some((m) => m.type === 'gateway:metrics:answer')).toBe(false);
  });

  it('should answer collections from a worker and resolve its own asks', async () => {
    const proc = new EventEmitter() as EventEmitter & { send: (m: Sent) => boolean };
    const out: Sent[] = [];
    proc.send = (m: Sent) => {
      out.push(m);
      return true;
    };
    const client = new ClusterMetricsClient(proc as never, true);
    expect(client.enabled).toBe(true);
    client.install();
    proc.emit('message', { type: 'gateway:metrics:collect', id: 7 });
    await new Promise((r) => setTimeout(r, 50));
    const local = out.find((m) => m.type === 'gateway:metrics:local');
    expect(local?.id).toBe(7);
    expect(Array.isArray(local?.metrics)).toBe(true);

    const asked = client.fetch(1000);
    const ask = out.find((m) => m.type === 'gateway:metrics:ask')!;
    proc.emit('message', { type: 'gateway:metrics:answer', id: ask.id, metrics: [] });
    await expect(asked).resolves.toEqual([]);
    // No primary answer: undefined after the timeout (the worker then serves its own).
    await expect(client.fetch(50)).resolves.toBeUndefined();
  });

  it('should stay off outside a cluster worker', () => {
    expect(new ClusterMetricsClient(process, false).enabled).toBe(false);
  });
});
