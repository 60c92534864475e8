/**
 * Micro-benchmark of the compression settings (not a test): gzip level 6 and brotli at
 * qualities 4 (what the gateway uses) and 11 (the zlib default) on a 100 KB JSON body, the
 * figures behind README "Compression" and the cache's choice to store identity bodies.
 *
 *   node bench/compression-micro.js [iterations]
 *
 * Single-threaded, after a warm-up; prints milliseconds per body and the compressed size.
 */
'use strict';
const zlib = require('node:zlib');

const iterations = Number(process.argv[2] ?? 50);
const rows = Array.from({ length: 800 }, (_, i) => ({
  id: i,
  name: `item-${i}`,
  price: (i * 1.37).toFixed(2),
  tags: ['alpha', 'beta', 'gamma'].slice(0, (i % 3) + 1),
  description: `Description of item ${i} with some repeated text for realism.`,
}));
const body = Buffer.from(JSON.stringify(rows)).subarray(0, 100_000);

const brotli = (quality) => ({
  params: {
    [zlib.constants.BROTLI_PARAM_QUALITY]: quality,
    [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
  },
});
const cases = [
  ['gzip level 6', () => zlib.gzipSync(body, { level: 6 })],
  ['brotli quality 4 (gateway)', () => zlib.brotliCompressSync(body, brotli(4))],
  ['brotli quality 11', () => zlib.brotliCompressSync(body, brotli(11))],
];

for (const [label, fn] of cases) {
  const runs = label.endsWith('11') ? Math.max(3, Math.floor(iterations / 10)) : iterations;
  fn();
  const started = process.hrtime.bigint();
  let size = 0;
  for (let i = 0; i < runs; i++) {
    size = fn().length;
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6 / runs;
  process.stdout.write(
    `${label.padEnd(28)} ${ms.toFixed(2).padStart(8)} ms per ${body.length} bytes -> ${size} bytes\n`,
  );
}
