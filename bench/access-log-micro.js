/**
 * Micro-benchmark of the access log's per-request cost (not a test): formatting one line from a
 * typical record, and formatting plus encoding it into a buffer as AccessLogFile does.
 *
 *   npm run build && node bench/access-log-micro.js [iterations]
 *
 * Runs against dist/, single-threaded, after a warm-up; prints microseconds per line.
 */
'use strict';
const { randomUUID } = require('node:crypto');
const { formatAccessLine } = require('../dist/observability/access-line');

const iterations = Number(process.argv[2] ?? 500000);

// Distinct ids and durations, as real traffic has; the rest as in the bench's full pipeline.
const records = Array.from({ length: 1024 }, (_, i) => ({
  requestId: randomUUID(),
  method: 'GET',
  host: '127.0.0.1:8080',
  path: '/bench/item',
  route: 'bench',
  upstream: 'http://127.0.0.1:9001',
  status: 200,
  durationMs: Math.round((0.2 + i / 997) * 1000) / 1000,
  bytesIn: 0,
  bytesOut: 100,
  clientIp: '127.0.0.1',
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
measure('formatAccessLine', (i) => {
  keep = formatAccessLine('info', records[i & 1023]);
});
measure('formatAccessLine + utf8 into a buffer', (i) => {
  const line = formatAccessLine('info', records[i & 1023]);
  if (offset + line.length * 3 > buffer.length) {
    offset = 0;
  }
  offset += buffer.write(line, offset, 'utf8');
});
if (!keep.endsWith('}\n')) {
  throw new Error('unexpected line');
}
