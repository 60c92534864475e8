import { Registry, Counter, Gauge, Histogram } from 'prom-client';
import { renderOpenMetrics, wantsOpenMetrics } from './openmetrics';

describe('wantsOpenMetrics', () => {
  it.each([
    [undefined, false],
    ['text/plain', false],
    ['*/*', false],
    ['application/openmetrics-text', true],
    // Prometheus 2.x/3.x scrape Accept.
    [
      'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
      true,
    ],
    ['text/plain;version=0.0.4,application/openmetrics-text;q=0.5', false],
    ['application/openmetrics-text;q=0', false],
    ['Application/OpenMetrics-Text; version=1.0.0', true],
  ])('%s -> %s', (accept, expected) => {
    expect(wantsOpenMetrics(accept)).toBe(expected);
  });
});

describe('renderOpenMetrics', () => {
  it('should name counter families without _total, keep histograms and end with # EOF', async () => {
    const reg = new Registry();
    const c = new Counter({
      name: 'jobs_total',
      help: 'Jobs "done"\\n',
      labelNames: ['q'],
      registers: [reg],
    });
    c.inc({ q: 'a"b\\c\nd' }, 2);
    new Gauge({ name: 'temp', help: 'Temp.', registers: [reg] }).set(1.5);
    new Histogram({
      name: 'lat_seconds',
      help: 'Lat.',
      buckets: [0.1, 1],
      registers: [reg],
    }).observe(0.5);
    const text = renderOpenMetrics(await reg.getMetricsAsJSON());
    expect(text.split('\n')).toEqual([
      '# TYPE jobs counter',
      '# HELP jobs Jobs \\"done\\"\\\\n',
      'jobs_total{q="a\\"b\\\\c\\nd"} 2',
      '# TYPE temp gauge',
      '# HELP temp Temp.',
      'temp 1.5',
      '# TYPE lat_seconds histogram',
      '# HELP lat_seconds Lat.',
      'lat_seconds_bucket{le="0.1"} 0',
      'lat_seconds_bucket{le="1"} 1',
      'lat_seconds_bucket{le="+Inf"} 1',
      'lat_seconds_sum 0.5',
      'lat_seconds_count 1',
      '# EOF',
      '',
    ]);
  });
});
