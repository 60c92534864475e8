import type { IncomingMessage } from 'node:http';
import {
  ROOT_CONTEXT,
  SpanKind,
  TraceFlags,
  defaultTextMapGetter,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { GATEWAY_VERSION } from '../../common/version';
import type { TracingConfig } from '../../config/gateway-config.types';
import { RequestTrace } from './request-trace';

/** The OpenTelemetry SDK in use: loaded only when tracing is on (see TracingService). */
export interface TracingRuntime {
  /** `parentTrusted`: the client is a trusted proxy, whose sampling decision is honoured. */
  start(
    req: IncomingMessage,
    path: string,
    clientIp: string,
    requestId: string,
    parentTrusted: boolean,
  ): RequestTrace;
  shutdown(): Promise<void>;
}

export function createTracingRuntime(config: TracingConfig, endpoint: string): TracingRuntime {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.name': config.serviceName,
      'service.version': GATEWAY_VERSION,
    }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: endpoint }), {
        // Bounded: a collector outage drops spans instead of growing memory.
        maxQueueSize: 4096,
        scheduledDelayMillis: 1000,
        exportTimeoutMillis: 10_000,
      }),
    ],
  });
  const tracer = provider.getTracer('nest-edge-gateway', GATEWAY_VERSION);
  const propagator = new W3CTraceContextPropagator();
  const ratio = config.sampleRatio;
  return {
    start(req, path, clientIp, requestId, parentTrusted) {
      let parent =
        req.headers.traceparent === undefined
          ? ROOT_CONTEXT
          : propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
      const remote = parentTrusted ? undefined : trace.getSpanContext(parent);
      if (remote !== undefined) {
        // Any client may send `-01`: exporting every such request is the client's choice to
        // make, and with the trace id its own, TraceIdRatioBasedSampler could be steered too.
        // The trace id is kept (the client can find its request); TRACE_SAMPLE_RATIO decides.
        parent = trace.setSpanContext(ROOT_CONTEXT, {
          ...remote,
          traceFlags: Math.random() < ratio ? TraceFlags.SAMPLED : TraceFlags.NONE,
        });
      }
      const span = tracer.startSpan(
        'gateway.request',
        {
          kind: SpanKind.SERVER,
          attributes: {
            'http.request.method': req.method ?? 'GET',
            'url.path': path,
            'server.address': req.headers.host ?? '',
            'client.address': clientIp,
            'gateway.request_id': requestId,
          },
        },
        parent,
      );
      return new RequestTrace(tracer, propagator, span);
    },
    shutdown: () => provider.shutdown(),
  };
}
