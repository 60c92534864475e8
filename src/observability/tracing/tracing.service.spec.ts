import type { Logger } from 'pino';
import type { GatewayConfig } from '../../config/gateway-config.types';
import { TracingService } from './tracing.service';

const runtimeLoaded = jest.fn();
jest.mock('./tracing-runtime', () => {
  runtimeLoaded();
  return jest.requireActual<object>('./tracing-runtime');
});

const logger = { info: jest.fn(), warn: jest.fn() } as unknown as Logger;
const config = (endpoint?: string, sampleRatio = 1) =>
  ({
    observability: {
      tracing: { serviceName: 'test', sampleRatio, ...(endpoint ? { endpoint } : {}) },
    },
  }) as GatewayConfig;

describe('TracingService', () => {
  it('should not load the OpenTelemetry SDK when tracing is off', async () => {
    const tracing = new TracingService(config(), logger);
    expect(tracing.enabled).toBe(false);
    expect(tracing.start({ headers: {} } as never, '/', '127.0.0.1', 'id', false)).toBeUndefined();
    await tracing.onApplicationShutdown();
    expect(runtimeLoaded).not.toHaveBeenCalled();
  });

  it('should load it and create spans when an endpoint is set', async () => {
    const tracing = new TracingService(config('http://127.0.0.1:9/v1/traces'), logger);
    expect(runtimeLoaded).toHaveBeenCalledTimes(1);
    const trace = tracing.start(
      { method: 'GET', headers: { host: 'h' } } as never,
      '/x',
      '127.0.0.1',
      'id',
      false,
    );
    expect(trace?.traceId).toMatch(/^[0-9a-f]{32}$/);
    await tracing.onApplicationShutdown();
  });

  it("should let only a trusted proxy's sampled flag override TRACE_SAMPLE_RATIO", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const request = (flags: string) =>
      ({
        method: 'GET',
        headers: { host: 'h', traceparent: `00-${traceId}-00f067aa0ba902b7-${flags}` },
      }) as never;
    const never = new TracingService(config('http://127.0.0.1:9/v1/traces', 0), logger);
    const untrusted = never.start(request('01'), '/x', '203.0.113.9', 'id', false)!;
    // The client's trace id is kept, its sampling decision is not.
    expect(untrusted.traceId).toBe(traceId);
    expect(untrusted.span.isRecording()).toBe(false);
    expect(never.start(request('01'), '/x', '10.0.0.1', 'id', true)!.span.isRecording()).toBe(true);
    await never.onApplicationShutdown();

    const always = new TracingService(config('http://127.0.0.1:9/v1/traces', 1), logger);
    expect(always.start(request('00'), '/x', '203.0.113.9', 'id', false)!.span.isRecording()).toBe(
      true,
    );
    expect(always.start(request('00'), '/x', '10.0.0.1', 'id', true)!.span.isRecording()).toBe(
      false,
    );
    await always.onApplicationShutdown();
  });
});
