import type { Logger } from 'pino';
import type { GatewayConfig } from '../../config/gateway-config.types';
import { TracingService } from './tracing.service';

const runtimeLoaded = jest.fn();
jest.mock('./tracing-runtime', () => {
  runtimeLoaded();
  return jest.requireActual<object>('./tracing-runtime');
});

const logger = { info: jest.fn(), warn: jest.fn() } as unknown as Logger;
const config = (endpoint?: string) =>
  ({
    observability: {
      tracing: { serviceName: 'test', sampleRatio: 1, ...(endpoint ? { endpoint } : {}) },
    },
  }) as GatewayConfig;

describe('TracingService', () => {
  it('should not load the OpenTelemetry SDK when tracing is off', async () => {
    const tracing = new TracingService(config(), logger);
    expect(tracing.enabled).toBe(false);
    expect(tracing.start({ headers: {} } as never, '/', '127.0.0.1', 'id')).toBeUndefined();
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
    );
    expect(trace?.traceId).toMatch(/^[0-9a-f]{32}$/);
    await tracing.onApplicationShutdown();
  });
});
