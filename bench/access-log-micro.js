/**
 * Micro-benchmark of the access log's per-request cost (not a test): formatting one line from a
 * typical record (the default field set, and the narrower set lines had before ACCESS_LOG_FIELDS),
 * and formatting plus encoding it into a buffer as LogWriter does.
 *
 *   npm run build && node bench/access-log-micro.js [iterations]
 *
 * Runs against dist/, single-threaded, after a warm-up; prints microseconds per line.
 */
'use strict';
const { randomUUID } = require('node:crypto');
const { accessLineFormatter } = require('../dist/observability/access-line');
const {
  ACCESS_LOG_FIELDS,
  DEFAULT_REDACTED_PARAMS,
} = require('../dist/config/gateway-config.types');

// The defaults: every field, the default redaction list.
const formatAccessLine = accessLineFormatter(ACCESS_LOG_FIELDS, DEFAULT_REDACTED_PARAMS);
// The fields the line had before ACCESS_LOG_FIELDS (no query, latency, attempts, cache status,
// user agent or referer), for comparison.
const formatNarrow = accessLineFormatter(
  ACCESS_LOG_FIELDS.filter(
    (f) =>
      !['query', 'upstreamLatencyMs', 'attempts', 'cacheStatus', 'userAgent', 'referer'].includes(
        f,
      ),
  ),
  DEFAULT_REDACTED_PARAMS,
);

const iterations = Number(process.argv[2] ?? 500000);

// Distinct ids and durations, as real traffic has; the rest as in the bench's full pipeline.
const records = Array.from({ length: 1024 }, (_, i) => ({
  requestId: randomUUID(),
  method: 'GET',
  host: '127.0.0.1:8080',
  path: '/bench/item',
  query: i % 4 === 0 ? 'page=2&limit=50' : '',
  route: 'bench',
  upstream: 'http://127.0.0.1:9001',
  status: 200,
  durationMs: Math.round((0.2 + i / 997) * 1000) / 1000,
  upstreamLatencyMs: Math.round((0.1 + i / 1997) * 1000) / 1000,
  attempts: 1,
  bytesIn: 0,
  bytesOut: 100,
  clientIp: '127.0.0.1',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  principal: 'bench',
}));

const buffer = Buffer.allocUnsafe(64 * 1024);
let offset = 0;
let keep = '';

function measure(label, fn) {
  for (let i = 0; i < Math.min(20000, iterations); i++) {
    fn(i);
  }
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    fn(i);
  }
  const us = Number(process.hrtime.bigint() - start) / 1000 / iterations;
  process.stdout.write(`${label.padEnd(40)} ${us.toFixed(2).padStart(8)} µs\n`);
}

process.stdout.write(`node ${process.version}, ${iterations} iterations\n`);
measure('format (pre-ACCESS_LOG_FIELDS fields)', (i) => {
  keep = formatNarrow('info', '', records[i & 1023]);
});
measure('format (default: every field)', (i) => {
  keep = formatAccessLine('info', '', records[i & 1023]);
});
measure('format (every field) + utf8 into a buffer', (i) => {
  const line = formatAccessLine('info', '', records[i & 1023]);
  if (offset + line.length * 3 > buffer.length) {
    offset = 0;
  }
  offset += buffer.write(line, offset, 'utf8');
});
if (!keep.endsWith('}\n')) {
  throw new Error('unexpected line');
}
