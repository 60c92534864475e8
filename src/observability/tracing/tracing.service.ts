import type { IncomingMessage } from 'node:http';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { InjectGatewayConfig } from '../../config/gateway.config';
import type { GatewayConfig } from '../../config/gateway-config.types';
import { ROOT_LOGGER } from '../observability.constants';
import type { RequestTrace } from './request-trace';
import type { TracingRuntime } from './tracing-runtime';

/** Longest wait for the last spans to reach the collector on shutdown. */
const SHUTDOWN_FLUSH_MS = 2_000;

/**
 * OpenTelemetry traces over OTLP/HTTP (Jaeger takes OTLP natively; jaeger-client is deprecated).
 * Off unless an endpoint is configured, and then free: the SDK is not even loaded (it is ~10 MB
 * of heap), `start` returns undefined after one boolean test and shutdown waits for nothing.
 *
 * A client's W3C `traceparent` is the parent of the request span. Its sampled flag decides only
 * when the client is a trusted proxy (`TRUSTED_PROXIES`); for anyone else TRACE_SAMPLE_RATIO
 * does, so a client cannot make the gateway export (and the collector store) every request it
 * sends. Unsampled requests still get span contexts, so the upstream receives a valid
 * `traceparent` either way.
 */
@Injectable()
export class TracingService implements OnApplicationShutdown {
  readonly enabled: boolean;
  private readonly runtime: TracingRuntime | undefined;

  constructor(
    @InjectGatewayConfig() config: GatewayConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {
    const tracing = config.observability.tracing;
    this.enabled = tracing.endpoint !== undefined;
    if (tracing.endpoint !== undefined) {
      // Loaded on demand, so a gateway without tracing never pays for the SDK.
      type RuntimeModule = typeof import('./tracing-runtime');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const runtimeModule = require('./tracing-runtime') as RuntimeModule;
      this.runtime = runtimeModule.createTracingRuntime(tracing, tracing.endpoint);
      logger.info(
        { endpoint: tracing.endpoint, sampleRatio: tracing.sampleRatio },
        'tracing: exporting spans over OTLP/HTTP',
      );
    }
  }

  /**
   * The request span, parented by the client's `traceparent` when it sent a valid one.
   * `peerTrusted`: the socket peer is in TRUSTED_PROXIES, so its sampling decision holds.
   */
  start(
    req: IncomingMessage,
    path: string,
    clientIp: string,
    requestId: string,
    peerTrusted: boolean,
  ): RequestTrace | undefined {
    return this.runtime?.start(req, path, clientIp, requestId, peerTrusted);
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.runtime) {
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), SHUTDOWN_FLUSH_MS);
    });
    try {
      const result = await Promise.race([this.runtime.shutdown().then(() => 'ok'), deadline]);
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
