import {
  backoffMs,
  CONNECT_ERROR_CODES,
  isIdempotent,
  parseHttpDate,
  RESET_ERROR_CODES,
  retryAfterMs,
  type RetryContext,
  shouldRetry,
} from './retry-policy';

describe('isIdempotent', () => {
  it.each(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'])(
    'should treat %s as idempotent',
    (method) => {
      expect(isIdempotent(method, {})).toBe(true);
    },
  );

  it.each(['POST', 'PATCH', 'CONNECT', 'get'])('should not treat %s as idempotent', (method) => {
    expect(isIdempotent(method, {})).toBe(false);
  });

  it('should treat any request with an Idempotency-Key as idempotent', () => {
    expect(
      isIdempotent('POST', { 'idempotency-key': '8e03978e-40d5-43e8-bc93-6894a57f9324' }),
    ).toBe(true);
    expect(isIdempotent('PATCH', { 'idempotency-key': ['', 'k1'] })).toBe(true);
  });

  it('should ignore an empty Idempotency-Key', () => {
    expect(isIdempotent('POST', { 'idempotency-key': '' })).toBe(false);
    expect(isIdempotent('POST', { 'idempotency-key': [''] })).toBe(false);
  });
});

describe('shouldRetry', () => {
  /** A first attempt of a bodiless request that failed before anything was sent back. */
  function ctx(overrides: Partial<RetryContext>): RetryContext {
    return {
      method: 'GET',
      headers: {},
      attempt: 1,
      maxAttempts: 3,
      bodyStarted: false,
      responseStarted: false,
      ...overrides,
    };
  }

  it.each([...CONNECT_ERROR_CODES])('should retry a POST on connect error %s', (code) => {
    expect(shouldRetry(ctx({ method: 'POST', error: { code } }))).toBe(true);
  });

  it.each([...RESET_ERROR_CODES])('should retry a GET on reset %s', (code) => {
    expect(shouldRetry(ctx({ method: 'GET', error: { code } }))).toBe(true);
  });

  it.each([...RESET_ERROR_CODES])('should not retry a POST on reset %s', (code) => {
    expect(shouldRetry(ctx({ method: 'POST', error: { code } }))).toBe(false);
  });

  it.each([502, 503, 504])('should retry a GET answered %i before any response byte', (status) => {
    expect(shouldRetry(ctx({ method: 'GET', status }))).toBe(true);
  });

  it.each([502, 503, 504])('should not retry a POST answered %i', (status) => {
    expect(shouldRetry(ctx({ method: 'POST', status }))).toBe(false);
  });

  it.each([200, 404, 429, 500, 501])('should not retry a GET answered %i', (status) => {
    expect(shouldRetry(ctx({ method: 'GET', status }))).toBe(false);
  });

  it('should retry a POST with an Idempotency-Key on reset and on 503', () => {
    const headers = { 'idempotency-key': 'k1' };

    expect(shouldRetry(ctx({ method: 'POST', headers, error: { code: 'ECONNRESET' } }))).toBe(true);
    expect(shouldRetry(ctx({ method: 'POST', headers, status: 503 }))).toBe(true);
  });

  it('should never retry a POST whose body was already sent upstream', () => {
    for (const error of [{ code: 'ECONNRESET' }, { code: 'ECONNREFUSED' }]) {
      expect(shouldRetry(ctx({ method: 'POST', error, bodyStarted: true }))).toBe(false);
    }
    expect(shouldRetry(ctx({ method: 'POST', status: 503, bodyStarted: true }))).toBe(false);
  });

  it('should never retry a PUT whose streamed body was already consumed', () => {
    expect(
      shouldRetry(ctx({ method: 'PUT', error: { code: 'ECONNRESET' }, bodyStarted: true })),
    ).toBe(false);
    expect(shouldRetry(ctx({ method: 'PUT', status: 502, bodyStarted: true }))).toBe(false);
  });

  it('should never retry once a response byte reached the client', () => {
    expect(
      shouldRetry(ctx({ error: { code: 'ECONNRESET' }, status: 200, responseStarted: true })),
    ).toBe(false);
    expect(shouldRetry(ctx({ status: 503, responseStarted: true }))).toBe(false);
    expect(shouldRetry(ctx({ error: { code: 'ECONNREFUSED' }, responseStarted: true }))).toBe(
      false,
    );
  });

  it('should stop at maxAttempts tries in all', () => {
    const error = { code: 'ECONNREFUSED' };

    expect(shouldRetry(ctx({ error, attempt: 1, maxAttempts: 3 }))).toBe(true);
    expect(shouldRetry(ctx({ error, attempt: 2, maxAttempts: 3 }))).toBe(true);
    expect(shouldRetry(ctx({ error, attempt: 3, maxAttempts: 3 }))).toBe(false);
    expect(shouldRetry(ctx({ error, attempt: 1, maxAttempts: 1 }))).toBe(false);
  });

  it.each([
    'UND_ERR_HEADERS_TIMEOUT',
    'UND_ERR_BODY_TIMEOUT',
    'UND_ERR_ABORTED',
    'CERT_HAS_EXPIRED',
  ])('should not retry %s, even for a GET', (code) => {
    expect(shouldRetry(ctx({ method: 'GET', error: { code } }))).toBe(false);
  });

  it('should not retry an error without a code', () => {
    expect(shouldRetry(ctx({ error: {} }))).toBe(false);
  });

  it('should not retry when neither an error nor a status is known', () => {
    expect(shouldRetry(ctx({}))).toBe(false);
  });
});

describe('backoffMs', () => {
  const max = (attempt: number, options = {}) =>
    backoffMs(attempt, { ...options, random: () => 0.999_999 });

  it('should double the ceiling per attempt from baseMs up to capMs', () => {
    expect([1, 2, 3, 4, 5, 6].map((attempt) => max(attempt))).toEqual([
      99, 199, 399, 799, 1599, 1999,
    ]);
    expect(max(3, { baseMs: 50, capMs: 150 })).toBe(149);
  });

  it('should return 0 when the random source returns 0 (full jitter)', () => {
    expect(backoffMs(5, { random: () => 0 })).toBe(0);
  });

  it('should stay at capMs for huge attempt numbers', () => {
    expect(max(10_000)).toBe(1999);
    expect(Number.isFinite(backoffMs(10_000))).toBe(true);
  });

  it('should treat an attempt below 1 as the first', () => {
    expect(max(0)).toBe(99);
    expect(max(-3)).toBe(99);
  });

  it('should stay within [0, ceiling) with the default random source', () => {
    for (let i = 0; i < 10_000; i++) {
      const wait = backoffMs(2);
      expect(wait).toBeGreaterThanOrEqual(0);
      expect(wait).toBeLessThan(200);
      expect(Number.isInteger(wait)).toBe(true);
    }
  });

  it('should spread waits uniformly over the whole range', () => {
    // Full jitter, not "half" or "equal" jitter: every tenth of [0, 400) gets about 10%.
    const buckets = new Array<number>(10).fill(0);
    const samples = 20_000;
    for (let i = 0; i < samples; i++) {
      buckets[Math.floor(backoffMs(3) / 40)]++;
    }
    for (const count of buckets) {
      expect(count / samples).toBeGreaterThan(0.08);
      expect(count / samples).toBeLessThan(0.12);
    }
  });
});

describe('retryAfterMs', () => {
  const now = Date.UTC(2025, 0, 15, 12, 0, 0);

  it('should read delta-seconds', () => {
    expect(retryAfterMs('2', 5_000, now)).toBe(2_000);
    expect(retryAfterMs(' 0 ', 5_000, now)).toBe(0);
    expect(retryAfterMs('003', 5_000, now)).toBe(3_000);
  });

  it('should cap delta-seconds', () => {
    expect(retryAfterMs('3600', 5_000, now)).toBe(5_000);
    expect(retryAfterMs('9'.repeat(400), 5_000, now)).toBe(5_000);
  });

  it('should read an IMF-fixdate relative to now', () => {
    expect(retryAfterMs('Wed, 15 Jan 2025 12:00:03 GMT', 5_000, now)).toBe(3_000);
  });

  it('should cap a far date and floor a past date at 0', () => {
    expect(retryAfterMs('Thu, 16 Jan 2025 12:00:00 GMT', 5_000, now)).toBe(5_000);
    expect(retryAfterMs('Tue, 14 Jan 2025 12:00:00 GMT', 5_000, now)).toBe(0);
  });

  it.each([
    ['empty', ''],
    ['negative', '-1'],
    ['fractional', '1.5'],
    ['words', 'soon'],
    ['a bare number Date.parse would accept as a year', '2025x'],
    ['an ISO date', '2025-01-15T12:00:03Z'],
    ['a date without GMT', 'Wed, 15 Jan 2025 12:00:03'],
    ['an impossible day', 'Fri, 31 Feb 2025 12:00:00 GMT'],
    ['an impossible hour', 'Wed, 15 Jan 2025 25:00:00 GMT'],
  ])('should ignore %s', (_name, value) => {
    expect(retryAfterMs(value, 5_000, now)).toBeUndefined();
  });

  it('should return undefined when the header is absent', () => {
    expect(retryAfterMs(undefined, 5_000, now)).toBeUndefined();
  });

  it('should treat a negative cap as 0', () => {
    expect(retryAfterMs('5', -1, now)).toBe(0);
  });

  it('should default now to the wall clock', () => {
    const inTwoSeconds = new Date(Date.now() + 2_500).toUTCString();

    const wait = retryAfterMs(inTwoSeconds, 5_000);

    expect(wait).toBeGreaterThan(1_000);
    expect(wait).toBeLessThanOrEqual(2_500);
  });
});

describe('parseHttpDate', () => {
  const expected = Date.UTC(1994, 10, 6, 8, 49, 37);

  it('should accept the three formats of RFC 9110 §5.6.7', () => {
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(expected);
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', Date.UTC(2025, 0, 1))).toBe(expected);
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994')).toBe(expected);
  });

  it('should put a two-digit year more than 50 years ahead in the previous century', () => {
    const in2025 = Date.UTC(2025, 0, 1);

    expect(parseHttpDate('Monday, 01-Jan-75 00:00:00 GMT', in2025)).toBe(Date.UTC(2075, 0, 1));
    expect(parseHttpDate('Thursday, 01-Jan-76 00:00:00 GMT', in2025)).toBe(Date.UTC(1976, 0, 1));
  });
});
