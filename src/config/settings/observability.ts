import { z } from 'zod';
import type { ObservabilityConfig } from '../gateway-config.types';
import { type Settings, withDefined } from '../loader/settings';
import { area, boolean, duration, setting, text } from './setting';

export const OBSERVABILITY = area({
  section: 'observability',
  title: 'Tracing and timing',
  settings: {
    otlpEndpoint: setting({
      env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
      key: 'otlp_endpoint',
      description:
        'OTLP/HTTP collector base URL (e.g. `http://jaeger:4318`); traces go to `/v1/traces` under it. Tracing is off when unset.',
      type: 'URL',
      schema: z.string(),
      // The OTel convention: the variable is the collector's base URL.
      parse: (raw): string | undefined => `${httpUrl(raw).replace(/\/+$/, '')}/v1/traces`,
      default: undefined,
    }),
    jaegerEndpoint: setting({
      env: 'JAEGER_ENDPOINT',
      key: 'jaeger_endpoint',
      description:
        'Full OTLP/HTTP traces URL (e.g. `http://jaeger:4318/v1/traces`), used as given.',
      type: 'URL',
      schema: z.string(),
      parse: (raw): string | undefined => httpUrl(raw),
      default: undefined,
    }),
    serviceName: text({
      env: 'OTEL_SERVICE_NAME',
      key: 'service_name',
      description: 'service.name of the spans.',
      default: 'nest-edge-gateway',
    }),
    sampleRatio: setting({
      env: 'TRACE_SAMPLE_RATIO',
      key: 'trace_sample_ratio',
      description: 'Share of requests traced (0–1) when the client sent no sampled traceparent.',
      type: 'number 0–1',
      schema: z.number().min(0).max(1),
      parse: (raw) => {
        const ratio = Number(raw);
        if (raw === '' || !Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
          throw new Error(`expected a ratio between 0 and 1, got ${JSON.stringify(raw)}`);
        }
        return ratio;
      },
      default: 1,
      shownDefault: 1,
    }),
    serverTiming: boolean({
      env: 'SERVER_TIMING',
      key: 'server_timing',
      description:
        'Add Server-Timing and X-Gateway-Latency headers saying how long the gateway itself took.',
      default: false,
    }),
    metricsCacheMs: duration({
      env: 'METRICS_CACHE_TTL',
      key: 'metrics_cache_ttl',
      description:
        'How long one rendering of /metrics is served again (scrapers poll every few seconds); 0 renders every scrape.',
      allowZero: true,
      default: '1s',
    }),
  },
});

/**
 * Tracing is on when an OTLP endpoint is configured: `OTEL_EXPORTER_OTLP_ENDPOINT` (the
 * collector's base URL) or `JAEGER_ENDPOINT` (the full traces URL).
 */
export function readObservability(settings: Settings): ObservabilityConfig {
  const { otlpEndpoint, jaegerEndpoint, serviceName, sampleRatio, serverTiming, metricsCacheMs } =
    OBSERVABILITY.settings;
  const [otlp, jaeger] = settings.rawGroup([otlpEndpoint.env, jaegerEndpoint.env]);
  const endpoint =
    otlp !== undefined
      ? settings.parseRaw(otlpEndpoint, otlp)
      : jaeger !== undefined
        ? settings.parseRaw(jaegerEndpoint, jaeger)
        : undefined;
  return {
    tracing: {
      ...withDefined('endpoint', endpoint),
      serviceName: settings.value(serviceName),
      sampleRatio: settings.value(sampleRatio),
    },
    serverTiming: settings.value(serverTiming),
    metricsCacheMs: settings.value(metricsCacheMs),
  };
}

function httpUrl(raw: string): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new Error('invalid URL (expected http://host:4318)');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error(
      `unsupported scheme "${parsed.protocol}" (OTLP over HTTP needs http: or https:)`,
    );
  }
  return raw;
}
