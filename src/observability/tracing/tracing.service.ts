import type { IncomingMessage } from 'node:http';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import {
  ROOT_CONTEXT,
  SpanKind,
  defaultTextMapGetter,
  type Tracer,
  type TextMapPropagator,
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
import type { Logger } from 'pino';
import { InjectGatewayConfig } from '../../config/gateway.config';
import type { GatewayConfig, TracingConfig } from '../../config/gateway-config.types';
import { GATEWAY_VERSION } from '../../common/version';
import { ROOT_LOGGER } from '../observability.constants';
import { RequestTrace } from './request-trace';

/** Longest wait for the last spans to reach the collector on shutdown. */
const SHUTDOWN_FLUSH_MS = 2_000;

/**
 * OpenTelemetry traces over OTLP/HTTP (Jaeger takes OTLP natively; jaeger-client is deprecated).
 * Off unless an endpoint is configured, and then free: `start` returns undefined after one
 * boolean test, nothing is exported and shutdown waits for nothing.
 *
 * A client's W3C `traceparent` is the parent of the request span; its sampled flag decides,
 * otherwise TRACE_SAMPLE_RATIO does. Unsampled requests still get span contexts, so the
 * upstream receives a valid `traceparent` either way.
 */
@Injectable()
export class TracingService implements OnApplicationShutdown {
  readonly enabled: boolean;
  private readonly provider: BasicTracerProvider | undefined;
  private readonly tracer: Tracer | undefined;
  private readonly propagator: TextMapPropagator = new W3CTraceContextPropagator();

  constructor(
    @InjectGatewayConfig() config: GatewayConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {
    const tracing = config.observability.tracing;
    this.enabled = tracing.endpoint !== undefined;
    if (tracing.endpoint !== undefined) {
      this.provider = createProvider(tracing, tracing.endpoint);
      this.tracer = this.provider.getTracer('nest-edge-gateway', GATEWAY_VERSION);
      logger.info(
        { endpoint: tracing.endpoint, sampleRatio: tracing.sampleRatio },
        'tracing: exporting spans over OTLP/HTTP',
      );
    }
  }

  /** The request span, parented by the client's `traceparent` when it sent a valid one. */
  start(
    req: IncomingMessage,
    path: string,
    clientIp: string,
    requestId: string,
  ): RequestTrace | undefined {
    if (!this.tracer) {
      return undefined;
    }
    const parent =
      req.headers.traceparent === undefined
        ? ROOT_CONTEXT
        : this.propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
    const span = this.tracer.startSpan(
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
    return new RequestTrace(this.tracer, this.propagator, span);
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.provider) {
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), SHUTDOWN_FLUSH_MS);
    });
    try {
      const result = await Promise.race([this.provider.shutdown().then(() => 'ok'), deadline]);
      if (result === 'timeout') {
        this.logger.warn('tracing: collector did not take the last spans in time; dropped');
      }
    } catch (err) {
      this.logger.warn({ err }, 'tracing: final export failed');
    } finally {
      clearTimeout(timer);
    }
  }
}

function createProvider(config: TracingConfig, endpoint: string): BasicTracerProvider {
  return new BasicTracerProvider({
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
}
