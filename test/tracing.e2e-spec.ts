import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway, testConfig } from './fixtures/gateway';
import { send, waitFor } from './fixtures/http';
import { spawnGateway, type GatewayProcess } from './fixtures/process';
import { startUpstream, type TestUpstream } from './fixtures/upstream';

/*
 * Traced gateways run as real processes (`dist/main.js`): the OTLP exporter loads node:http with
 * a dynamic import(), which jest's module sandbox refuses without --experimental-vm-modules.
 */

/** One span as the OTLP/HTTP JSON exporter sends it (ids are hex strings). */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
  status?: { code?: number };
}

/** A local OTLP/HTTP collector: what Jaeger's 4318 port would receive. */
async function startCollector(): Promise<{
  url: string;
  spans: OtlpSpan[];
  close(): Promise<void>;
}> {
  const spans: OtlpSpan[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as {
          resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
        };
        for (const rs of body.resourceSpans) {
          for (const ss of rs.scopeSpans) {
            spans.push(...ss.spans);
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const attr = (span: OtlpSpan, key: string): unknown => {
  const found = span.attributes.find((a) => a.key === key);
  return found && Object.values(found.value)[0];
};

const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

function spawnTraced(
  routes: { name: string; prefix: string; target_url: string }[],
  collectorUrl: string,
  env: Record<string, string> = {},
): Promise<GatewayProcess> {
  return spawnGateway({
    SERVICE_ROUTES: JSON.stringify(routes),
    OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl,
    OTEL_SERVICE_NAME: 'gw-test',
    RETRY_BACKOFF: '1ms',
    ENABLE_CACHING: 'false',
    LOG_LEVEL: 'info',
    ...env,
  });
}

/** The access-log lines a spawned gateway wrote to stdout. */
function accessLines(gw: GatewayProcess): Record<string, unknown>[] {
  return gw
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.msg === 'request completed');
}

describe('Tracing (OpenTelemetry over OTLP/HTTP)', () => {
  let collector: Awaited<ReturnType<typeof startCollector>>;
  let up: TestUpstream;
  let flaky: TestUpstream;
  let gw: GatewayProcess;
  let flakyCalls = 0;

  beforeAll(async () => {
    collector = await startCollector();
    up = await startUpstream();
    flaky = await startUpstream((_req, res) => {
      flakyCalls++;
      res.writeHead(flakyCalls === 1 ? 503 : 200, { 'content-type': 'text/plain' });
      res.end(flakyCalls === 1 ? 'busy' : 'ok');
    });
    gw = await spawnTraced(
      [
        { name: 'api', prefix: '/api', target_url: up.url },
        { name: 'flaky', prefix: '/flaky', target_url: flaky.url },
      ],
      collector.url,
    );
  });

  afterAll(async () => {
    await gw.stop();
    await up.close();
    await flaky.close();
    await collector.close();
  });

  it("should continue the client's trace and pass the attempt span to the upstream", async () => {
    const res = await send(gw.url, '/api/orders?id=1', {
      headers: { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`, tracestate: 'vendor=1' },
    });
    expect(res.status).toBe(200);

    const sent = up.requests.at(-1)!.headers;
    const [, traceId, parentId] = TRACEPARENT.exec(String(sent.traceparent)) ?? [];
    expect(traceId).toBe(CLIENT_TRACE);
    expect(parentId).not.toBe(CLIENT_SPAN);
    expect(sent.tracestate).toBe('vendor=1');

    await waitFor(() => collector.spans.filter((s) => s.traceId === CLIENT_TRACE).length >= 2);
    const spans = collector.spans.filter((s) => s.traceId === CLIENT_TRACE);
    const request = spans.find((s) => s.name === 'gateway.request')!;
    const attempt = spans.find((s) => s.name === 'gateway.upstream')!;
    expect(request.parentSpanId).toBe(CLIENT_SPAN);
    expect(attempt.parentSpanId).toBe(request.spanId);
    // The upstream's parent is the attempt span, so its own spans nest under the right hop.
    expect(attempt.spanId).toBe(parentId);
    expect(attr(request, 'http.request.method')).toBe('GET');
    expect(attr(request, 'http.route')).toBe('api');
    expect(attr(request, 'gateway.upstream')).toBe(new URL(up.url).href);
    expect(Number(attr(request, 'http.response.status_code'))).toBe(200);
    expect(Number(attr(attempt, 'http.response.status_code'))).toBe(200);
  });

  it('should write the trace id into the access log line', async () => {
    await send(gw.url, '/api/logged', {
      headers: { traceparent: `00-${'a'.repeat(32)}-${CLIENT_SPAN}-01` },
    });
    await waitFor(() => accessLines(gw).some((l) => l.path === '/api/logged'));
    expect(accessLines(gw).find((l) => l.path === '/api/logged')?.traceId).toBe('a'.repeat(32));
  });

  it('should start a new trace when the client sends none or an invalid one', async () => {
    await send(gw.url, '/api/fresh', { headers: { traceparent: 'garbage' } });
    const sent = up.requests.at(-1)!.headers;
    const [, traceId] = TRACEPARENT.exec(String(sent.traceparent)) ?? [];
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(traceId).not.toBe('0'.repeat(32));
    await waitFor(() =>
      collector.spans.some((s) => s.traceId === traceId && s.name === 'gateway.request'),
    );
    const request = collector.spans.find(
      (s) => s.traceId === traceId && s.name === 'gateway.request',
    )!;
    expect(request.parentSpanId ?? '').toBe('');
  });

  it('should record one child span per attempt when a request is retried', async () => {
    const trace = 'b'.repeat(32);
    const res = await send(gw.url, '/flaky/x', {
      headers: { traceparent: `00-${trace}-${CLIENT_SPAN}-01` },
    });
    expect(res.status).toBe(200);
    await waitFor(
      () =>
        collector.spans.filter((s) => s.traceId === trace && s.name === 'gateway.upstream')
          .length === 2,
    );
    const attempts = collector.spans.filter(
      (s) => s.traceId === trace && s.name === 'gateway.upstream',
    );
    const codes = attempts.map((s) => Number(attr(s, 'http.response.status_code'))).sort();
    expect(codes).toEqual([200, 503]);
    expect(
      attempts.find((s) => Number(attr(s, 'http.response.status_code')) === 503)?.status?.code,
    ).toBe(2);
  });

  it('should end the request span with an error for requests refused by the gateway', async () => {
    const trace = 'c'.repeat(32);
    const res = await send(gw.url, '/nowhere', {
      headers: { traceparent: `00-${trace}-${CLIENT_SPAN}-01` },
    });
    expect(res.status).toBe(404);
    await waitFor(() => collector.spans.some((s) => s.traceId === trace));
    const request = collector.spans.find((s) => s.traceId === trace)!;
    expect(request.name).toBe('gateway.request');
    expect(Number(attr(request, 'http.response.status_code'))).toBe(404);
    expect(collector.spans.filter((s) => s.traceId === trace)).toHaveLength(1);
  });
});

describe('Tracing sampling and the off switch', () => {
  let collector: Awaited<ReturnType<typeof startCollector>>;
  let up: TestUpstream;

  beforeAll(async () => {
    collector = await startCollector();
    up = await startUpstream();
  });

  afterAll(async () => {
    await up.close();
    await collector.close();
  });

  it('should export nothing at ratio 0 yet still send a valid traceparent upstream', async () => {
    const gw = await spawnTraced(
      [{ name: 'all', prefix: '/', target_url: up.url }],
      collector.url,
      {
        TRACE_SAMPLE_RATIO: '0',
      },
    );
    try {
      await send(gw.url, '/unsampled');
      const sent = String(up.requests.at(-1)!.headers.traceparent);
      expect(sent).toMatch(TRACEPARENT);
      expect(sent.endsWith('-00')).toBe(true);
      // A client's sampled flag does not force a trace: it is not a trusted proxy. Its trace id
      // is kept, so it can still find its request in the upstream's logs.
      await send(gw.url, '/forced', {
        headers: { traceparent: `00-${'d'.repeat(32)}-${CLIENT_SPAN}-01` },
      });
      const forced = String(up.requests.at(-1)!.headers.traceparent);
      expect(forced).toMatch(new RegExp(`^00-${'d'.repeat(32)}-[0-9a-f]{16}-00$`));
    } finally {
      expect(await gw.stop()).toBe(0);
    }
    // Shutdown flushes: whatever was recorded is exported by now.
    expect(collector.spans.filter((s) => s.traceId === 'd'.repeat(32))).toHaveLength(0);
  });

  it("should honour a trusted proxy's sampled flag over the ratio", async () => {
    const gw = await spawnTraced(
      [{ name: 'all', prefix: '/', target_url: up.url }],
      collector.url,
      { TRACE_SAMPLE_RATIO: '0', TRUSTED_PROXIES: '127.0.0.1' },
    );
    try {
      await send(gw.url, '/sampled', {
        headers: { traceparent: `00-${'e'.repeat(32)}-${CLIENT_SPAN}-01` },
      });
      expect(String(up.requests.at(-1)!.headers.traceparent).endsWith('-01')).toBe(true);
    } finally {
      expect(await gw.stop()).toBe(0);
    }
    expect(collector.spans.filter((s) => s.traceId === 'e'.repeat(32))).toHaveLength(2);
  });

  it('should show an upstream without the key in its query in spans', async () => {
    const gw = await spawnTraced(
      [{ name: 'keyed', prefix: '/', target_url: `${up.url}/v1?key=TRACE-S3CRET` }],
      collector.url,
      { TRUSTED_PROXIES: '127.0.0.1' },
    );
    try {
      await send(gw.url, '/keyed', {
        headers: { traceparent: `00-${'f'.repeat(32)}-${CLIENT_SPAN}-01` },
      });
    } finally {
      expect(await gw.stop()).toBe(0);
    }
    const spans = collector.spans.filter((s) => s.traceId === 'f'.repeat(32));
    expect(spans).toHaveLength(2);
    expect(JSON.stringify(spans)).not.toContain('TRACE-S3CRET');
    expect(spans.map((s) => attr(s, 'gateway.upstream'))).toEqual([`${up.url}/v1`, `${up.url}/v1`]);
  });

  it('should leave traceparent untouched and add no spans when tracing is off', async () => {
    const gw = await startGateway(testConfig([{ prefix: '/', upstreams: [up.url] }]));
    const client = `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`;
    try {
      await send(gw.url, '/off', { headers: { traceparent: client } });
      expect(up.requests.at(-1)!.headers.traceparent).toBe(client);
      expect(gw.logs.find((l) => l.path === '/off')).not.toHaveProperty('traceId');
    } finally {
      const started = performance.now();
      await gw.close();
      // Zero shutdown delay when off: nothing to flush.
      expect(performance.now() - started).toBeLessThan(2000);
    }
    expect(collector.spans.filter((s) => s.traceId === CLIENT_TRACE)).toHaveLength(0);
  });

  it('should keep serving when the collector is unreachable', async () => {
    const gw = await spawnTraced(
      [{ name: 'all', prefix: '/', target_url: up.url }],
      'http://127.0.0.1:9',
    );
    try {
      for (let i = 0; i < 5; i++) {
        expect((await send(gw.url, `/no-collector/${i}`)).status).toBe(200);
      }
    } finally {
      // Shutdown waits for the collector at most a bounded time, then exits cleanly.
      const started = performance.now();
      expect(await gw.stop()).toBe(0);
      expect(performance.now() - started).toBeLessThan(10_000);
    }
  });
});
