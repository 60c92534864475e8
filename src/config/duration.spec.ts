import { formatDuration, GO_DURATION_PATTERN, parseGoDuration } from './duration';

describe('parseGoDuration', () => {
  it.each([
    ['0', 0],
    ['+0', 0],
    ['-0', 0],
    ['0s', 0],
    ['300ms', 300],
    ['10s', 10_000],
    ['1.5h', 5_400_000],
    ['2h45m', 9_900_000],
    ['1h30m15s', 5_415_000],
    ['1us', 0.001],
    ['1µs', 0.001],
    ['1μs', 0.001],
    ['1500ns', 0.0015],
    ['.5s', 500],
    ['1.s', 1000],
    ['0.3s', 300],
    ['-10s', -10_000],
    ['+10m', 600_000],
  ])('should parse %s as %d ms', (input, expected) => {
    expect(parseGoDuration(input)).toBe(expected);
    expect(GO_DURATION_PATTERN.test(input)).toBe(true);
  });

  it.each([
    ['10', 'invalid duration "10" (missing unit, e.g. "10s")'],
    ['', 'invalid duration "" (empty)'],
    ['-', 'invalid duration "-" (no number after the sign)'],
    ['1h30', 'invalid duration "1h30" (missing unit after "30"; units: ns, us, µs, ms, s, m, h)'],
    ['10x', 'invalid duration "10x" (unknown unit "x"; expected one of ns, us, µs, ms, s, m, h)'],
    [
      '10 s',
      'invalid duration "10 s" (unknown unit " s"; expected one of ns, us, µs, ms, s, m, h)',
    ],
    [
      'abc',
      'invalid duration "abc" (expected a number followed by a unit, e.g. "300ms" or "1h30m")',
    ],
    ['.s', 'invalid duration ".s" (expected a number followed by a unit, e.g. "300ms" or "1h30m")'],
    ['1e3s', 'invalid duration "1e3s" (unknown unit "e"; expected one of ns, us, µs, ms, s, m, h)'],
  ])('should reject %j with a clear message', (input, message) => {
    expect(() => parseGoDuration(input)).toThrow(message);
    expect(GO_DURATION_PATTERN.test(input)).toBe(false);
  });

  it('should reject durations beyond int64 nanoseconds like Go', () => {
    expect(() => parseGoDuration('3000000h')).toThrow('invalid duration "3000000h" (too large)');
    expect(parseGoDuration('2562047h')).toBe(2562047 * 3_600_000);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [300, '300ms'],
    [0.001, '0.001ms'],
    [1500, '1.5s'],
    [90_000, '1m30s'],
    [3_600_000, '1h'],
    [5_415_000, '1h30m15s'],
    [2 ** 31 - 1, '596h31m23.647s'],
    [-10_000, '-10s'],
  ])('should format %d ms as %s and read back to the same value', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseGoDuration(text)).toBe(ms);
  });
});
