import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { RequestTrace } from './request-trace';

describe('RequestTrace', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('test');
  const propagator = new W3CTraceContextPropagator();

  afterEach(() => exporter.reset());
  afterAll(() => provider.shutdown());

  const begin = (): RequestTrace =>
    new RequestTrace(
      tracer,
      propagator,
      tracer.startSpan('gateway.request', { kind: SpanKind.SERVER }, ROOT_CONTEXT),
    );

  it('should inject the attempt span as the upstream parent and nest it under the request', () => {
    const t = begin();
    const headers: Record<string, string | string[]> = {};
    t.startAttempt('http://a/', 1, 'GET', headers);
    t.endAttempt(200);
    t.finish({ status: 200, route: 'api', upstream: 'http://a/', bytesIn: 0, bytesOut: 5 });

    const [attempt, request] = exporter.getFinishedSpans();
    expect(attempt.name).toBe('gateway.upstream');
    expect(attempt.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(headers.traceparent).toBe(`00-${t.traceId}-${attempt.spanContext().spanId}-01`);
    expect(request.attributes).toMatchObject({
      'http.route': 'api',
      'http.response.status_code': 200,
      'gateway.bytes_out': 5,
    });
    expect(request.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('should close a dangling attempt when the request ends, and mark errors', () => {
    const t = begin();
    t.startAttempt('http://a/', 1, 'POST', {});
    t.finish({ status: 502, error: 'ECONNRESET', bytesIn: 0, bytesOut: 0 });

    const [attempt, request] = exporter.getFinishedSpans();
    expect(attempt.status.code).toBe(SpanStatusCode.ERROR);
    expect(request.status).toEqual({ code: SpanStatusCode.ERROR, message: 'ECONNRESET' });
    expect(request.attributes['error.type']).toBe('ECONNRESET');
  });

  it('should end each retried attempt as its own span with a resend count', () => {
    const t = begin();
    t.startAttempt('http://a/', 1, 'GET', {});
    t.endAttempt(503, 'busy');
    t.startAttempt('http://b/', 2, 'GET', {});
    t.endAttempt(200);
    t.finish({ status: 200, bytesIn: 0, bytesOut: 0 });

    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual([
      'gateway.upstream',
      'gateway.upstream',
      'gateway.request',
    ]);
    expect(spans[1].attributes['http.request.resend_count']).toBe(1);
    expect(spans.every((s) => s.spanContext().traceId === t.traceId)).toBe(true);
    expect(trace.getSpan(ROOT_CONTEXT)).toBeUndefined();
  });
});
