/**
 * Go `time.ParseDuration` for the duration variables the Go gateway already accepted
 * (`CONNECTION_TIMEOUT=30s`, `BLOCK_DURATION=10m`, …), so existing deployments keep working.
 */

const NANOS_PER_UNIT: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1_000n],
  ['µs', 1_000n], // U+00B5 micro sign
  ['μs', 1_000n], // U+03BC Greek small letter mu
  ['ms', 1_000_000n],
  ['s', 1_000_000_000n],
  ['m', 60_000_000_000n],
  ['h', 3_600_000_000_000n],
]);

/** Node timers fire after 1 ms when given more than this (TimeoutOverflowWarning). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const UNIT_LIST = 'ns, us, µs, ms, s, m, h';

// Go stores durations as int64 nanoseconds and rejects anything larger.
const MAX_NANOS = 2n ** 63n - 1n;

/**
 * The same grammar as {@link parseGoDuration}, for the JSON Schema (`pattern`) and editors.
 * `parseGoDuration` stays the authority; this only has to agree with it.
 */
export const GO_DURATION_PATTERN =
  /^[-+]?(?:0|(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+)$/;

/**
 * Parses a Go duration string (`300ms`, `1.5h`, `2h45m`, `-10s`, `0`) into milliseconds.
 *
 * A unit is required on every number except a lone `0`, exactly as in Go, so `CONNECTION_TIMEOUT=10`
 * is an error rather than a guess between seconds and milliseconds.
 *
 * @returns milliseconds; fractional below 1 ms (`1us` → 0.001).
 * @throws {Error} `invalid duration "<input>" (<reason>)`.
 */
export function parseGoDuration(s: string): number {
  const fail = (reason: string): never => {
    throw new Error(`invalid duration ${JSON.stringify(s)} (${reason})`);
  };

  let rest = s;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  if (rest === '0') {
    return 0;
  }
  if (rest === '') {
    return fail(s === '' ? 'empty' : 'no number after the sign');
  }

  let totalNanos = 0n;
  while (rest !== '') {
    const match = /^([0-9]*)(?:\.([0-9]*))?/.exec(rest);
    const whole = match?.[1] ?? '';
    const fraction = match?.[2];
    if (whole === '' && (fraction === undefined || fraction === '')) {
      return fail('expected a number followed by a unit, e.g. "300ms" or "1h30m"');
    }
    const numberText = match?.[0] ?? '';
    rest = rest.slice(numberText.length);

    const unit = /^[^0-9.]*/.exec(rest)?.[0] ?? '';
    rest = rest.slice(unit.length);
    if (unit === '') {
      return fail(
        numberText === s.replace(/^[-+]/, '')
          ? `missing unit, e.g. "${s}s"`
          : `missing unit after "${numberText}"; units: ${UNIT_LIST}`,
      );
    }
    const unitNanos = NANOS_PER_UNIT.get(unit);
    if (unitNanos === undefined) {
      return fail(`unknown unit ${JSON.stringify(unit)}; expected one of ${UNIT_LIST}`);
    }

    // Integer arithmetic like Go, so "0.3s" is exactly 300 ms rather than 299.99999999999997.
    let nanos = BigInt(whole === '' ? '0' : whole) * unitNanos;
    if (fraction !== undefined && fraction !== '') {
      nanos += (BigInt(fraction) * unitNanos) / 10n ** BigInt(fraction.length);
    }
    totalNanos += nanos;
    if (totalNanos > MAX_NANOS) {
      return fail('too large');
    }
  }

  const millis = Number(totalNanos / 1_000_000n) + Number(totalNanos % 1_000_000n) / 1e6;
  return negative ? -millis : millis;
}

/**
 * Formats milliseconds as a compact Go-style duration (`1h30m`, `1m30s`, `300ms`, `0s`) that
 * {@link parseGoDuration} reads back to the same value. Used in messages and docs.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) {
    return String(ms);
  }
  if (ms < 0) {
    return `-${formatDuration(-ms)}`;
  }
  if (ms === 0) {
    return '0s';
  }
  if (ms < 1000) {
    return `${trimNumber(ms)}ms`;
  }
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = (ms % 60_000) / 1000;
  return (
    (hours > 0 ? `${hours}h` : '') +
    (minutes > 0 ? `${minutes}m` : '') +
    (seconds > 0 ? `${trimNumber(seconds)}s` : '')
  );
}

// Avoids binary noise such as 23.647000000000002 in messages; 6 decimals keep nanosecond precision.
function trimNumber(n: number): string {
  return String(Number(n.toFixed(6)));
}
