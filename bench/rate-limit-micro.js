'use strict';
/**
 * Micro-benchmark of the in-memory edge protection (not a test): nanoseconds per
 * RateLimitService.consume() and per IpFilterService check()+record(), and the resident memory
 * after 1,000,000 distinct client IPs (the D15 flood) with the default 100k key cap.
 *
 *   npm run build && node --expose-gc bench/rate-limit-micro.js
 *
 * Runs against dist/, i.e. the code the gateway ships. Each figure is the median of 5 runs.
 */
const { Logger } = require('@nestjs/common');
const { MemoryBucketStore } = require('../dist/security/rate-limit/memory-bucket-store');
const { RateLimitService } = require('../dist/security/rate-limit/rate-limit.service');
const { IpFilterService } = require('../dist/security/ip-filter/ip-filter.service');

// The cap warning would otherwise be the thing measured.
Logger.overrideLogger(false);

const ONE_MILLION = 1_000_000;
const ips = new Array(ONE_MILLION);
for (let i = 0; i < ONE_MILLION; i++) {
  ips[i] = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** ns per call of `fn(i)` over `n` calls, median of 5 runs after a warm-up. */
function measure(n, fn) {
  for (let i = 0; i < Math.min(n, 100_000); i++) {
    fn(i);
  }
  const runs = [];
  for (let r = 0; r < 5; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      fn(i);
    }
    runs.push(Number(process.hrtime.bigint() - start) / n);
  }
  return median(runs);
}

/** RSS and live heap in MiB, after a full GC when --expose-gc is given. */
function memory() {
  if (typeof globalThis.gc === 'function') {
    globalThis.gc();
    globalThis.gc();
  }
  const { rss, heapUsed } = process.memoryUsage();
  return { rss: rss / 2 ** 20, heap: heapUsed / 2 ** 20 };
}

const results = {};
let sink = 0;

{
  const limiter = new RateLimitService(new MemoryBucketStore(), { rate: 100, burst: 200 });
  results['consume(), one hot key'] = measure(ONE_MILLION, () => {
    sink += limiter.consume('198.51.100.7').remaining;
  });
  results['consume(), 10k keys round-robin'] = measure(ONE_MILLION, (i) => {
    sink += limiter.consume(ips[i % 10_000]).remaining;
  });
}

const baseline = memory();
const store = new MemoryBucketStore({ maxKeys: 100_000 });
const limiter = new RateLimitService(store, { rate: 100, burst: 200 });
results['consume(), 1M distinct IPs (cap 100k)'] = measure(ONE_MILLION, (i) => {
  sink += limiter.consume(ips[i]).remaining;
});
const afterBuckets = memory();

const filter = new IpFilterService({
  allow: [],
  deny: [],
  threshold: 1000,
  blockDurationMs: 600_000,
});
results['ip filter classify()+check()+record(), 1M distinct IPs'] = measure(ONE_MILLION, (i) => {
  const ip = ips[i];
  if (filter.classify(ip) === 'none' && !filter.check(ip).blocked) {
    sink += filter.record(ip) ? 1 : 0;
  }
});
const afterFilter = memory();

// For scale only: one bucket per IP with no bound, as the Go gateway kept them (D15).
const unbounded = new Map();
for (let i = 0; i < ONE_MILLION; i++) {
  unbounded.set(ips[i], { tokens: 199, at: i, fullAt: i + 10 });
}
const afterUnbounded = memory();

const mib = (n) => `${n >= 0 ? '+' : ''}${n.toFixed(1)} MiB`;
console.log('operation                                                     ns/op');
for (const [name, ns] of Object.entries(results)) {
  console.log(`${name.padEnd(60)} ${ns.toFixed(0).padStart(6)}`);
}
console.log('');
console.log('memory (live heap after GC; RSS)                     heap          RSS');
console.log(
  `baseline, incl. the 1M IP strings of the bench       ${baseline.heap.toFixed(1)} MiB   ${baseline.rss.toFixed(1)} MiB`,
);
console.log(
  `buckets after 1M distinct IPs (${store.size} kept)      ${mib(afterBuckets.heap - baseline.heap)}   ${afterBuckets.rss.toFixed(1)} MiB`,
);
console.log(
  `ip filter after 1M distinct IPs (${filter.trackedCount} kept)    ${mib(afterFilter.heap - afterBuckets.heap)}   ${afterFilter.rss.toFixed(1)} MiB`,
);
console.log(
  `for scale: unbounded Map of 1M buckets (Go gateway)  ${mib(afterUnbounded.heap - afterFilter.heap)}   ${afterUnbounded.rss.toFixed(1)} MiB`,
);
console.log(
  `gc exposed: ${typeof globalThis.gc === 'function'}; node ${process.version}; sink ${(sink + unbounded.size) % 7}`,
);
