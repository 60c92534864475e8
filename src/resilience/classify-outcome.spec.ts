import {
  classifyOutcome,
  DEFAULT_FAILURE_STATUSES,
  failureKind,
  failureStatusSet,
  STALLED_ERROR_CODE,
  type ExchangeOutcome,
  type ExchangeResult,
} from './classify-outcome';

describe('classifyOutcome with the default failure statuses (502, 503, 504)', () => {
  const defaults = failureStatusSet(DEFAULT_FAILURE_STATUSES);
  const cases: [string, ExchangeResult, ExchangeOutcome][] = [
    // Failures of the exchange itself.
    [
      'connection refused',
      { error: { code: 'ECONNREFUSED' }, clientAborted: false },
      'failed-exchange',
    ],
    [
      'connect timeout',
      { error: { code: 'UND_ERR_CONNECT_TIMEOUT' }, clientAborted: false },
      'failed-exchange',
    ],
    ['DNS failure', { error: { code: 'ENOTFOUND' }, clientAborted: false }, 'failed-exchange'],
    ['reset', { error: { code: 'ECONNRESET' }, clientAborted: false }, 'failed-exchange'],
    [
      'socket closed',
      { error: { code: 'UND_ERR_SOCKET' }, clientAborted: false },
      'failed-exchange',
    ],
    [
      'headers timeout',
      { error: { code: 'UND_ERR_HEADERS_TIMEOUT' }, clientAborted: false },
      'failed-exchange',
    ],
    [
      'idle timeout in the middle of the body',
      { status: 200, error: { code: 'UND_ERR_BODY_TIMEOUT' }, clientAborted: false },
      'failed-exchange',
    ],
    [
      'malformed response',
      { error: { code: 'HPE_INVALID_CONSTANT' }, clientAborted: false },
      'failed-exchange',
    ],
    [
      'stalled upstream',
      { error: { code: STALLED_ERROR_CODE }, clientAborted: false },
      'failed-exchange',
    ],
    ['error without a code', { error: {}, clientAborted: false }, 'failed-exchange'],
    [
      'reset in the middle of a 200 body',
      { status: 200, error: { code: 'ECONNRESET' }, clientAborted: false },
      'failed-exchange',
    ],
    // Statuses: only the gateway errors count.
    ['502', { status: 502, clientAborted: false }, 'failed-status'],
    ['503', { status: 503, clientAborted: false }, 'failed-status'],
    ['504', { status: 504, clientAborted: false }, 'failed-status'],
    ["500 (the application's answer)", { status: 500, clientAborted: false }, 'success'],
    ['501', { status: 501, clientAborted: false }, 'success'],
    ['505', { status: 505, clientAborted: false }, 'success'],
    ['507', { status: 507, clientAborted: false }, 'success'],
    ['200', { status: 200, clientAborted: false }, 'success'],
    ['204', { status: 204, clientAborted: false }, 'success'],
    ['304', { status: 304, clientAborted: false }, 'success'],
    ['404', { status: 404, clientAborted: false }, 'success'],
    ['429', { status: 429, clientAborted: false }, 'success'],
    // The client's doing, or the gateway's.
    ['client abort before any answer', { clientAborted: true }, 'neutral'],
    [
      'client abort surfacing as a reset',
      { error: { code: 'ECONNRESET' }, clientAborted: true },
      'neutral',
    ],
    ['client abort during a 200 body', { status: 200, clientAborted: true }, 'neutral'],
    ['client abort during a 500 body', { status: 500, clientAborted: true }, 'neutral'],
    ['client abort after a 503 had arrived', { status: 503, clientAborted: true }, 'failed-status'],
    ['gateway abort', { error: { code: 'UND_ERR_ABORTED' }, clientAborted: false }, 'neutral'],
    ['body over limit', { error: { code: 'GW_BODY_TOO_LARGE' }, clientAborted: false }, 'neutral'],
    [
      'client body shorter than announced',
      { error: { code: 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH' }, clientAborted: false },
      'neutral',
    ],
    ['nothing happened', { clientAborted: false }, 'neutral'],
    ['status 0 (no response head)', { status: 0, clientAborted: false }, 'neutral'],
  ];

  it.each(cases)('should classify %s', (_name, result, expected) => {
    expect(classifyOutcome(result, defaults)).toBe(expected);
  });
});

describe('failure statuses added by a route or an upstream', () => {
  it('should add to the default list, not replace it', () => {
    const set = failureStatusSet(DEFAULT_FAILURE_STATUSES, [500, 429], undefined);
    for (const status of [500, 429, 502, 503, 504]) {
      expect(classifyOutcome({ status, clientAborted: false }, set)).toBe('failed-status');
    }
    expect(classifyOutcome({ status: 404, clientAborted: false }, set)).toBe('success');
  });

  it('should take an empty default list (CIRCUIT_BREAKER_FAILURE_STATUSES=none): only exchange failures count', () => {
    const none = failureStatusSet([]);
    expect(classifyOutcome({ status: 503, clientAborted: false }, none)).toBe('success');
    expect(classifyOutcome({ error: { code: 'ECONNRESET' }, clientAborted: false }, none)).toBe(
      'failed-exchange',
    );
  });

  it('should union a route list and an upstream list', () => {
    const set = failureStatusSet([503], [500], [429]);
    expect([...set].sort()).toEqual([429, 500, 503]);
  });
});

describe('failureKind (upstream_errors_total{kind})', () => {
  it.each([
    ['failed-exchange', 0, 'ECONNREFUSED', 'connect'],
    ['failed-exchange', 0, 'UND_ERR_CONNECT_TIMEOUT', 'connect_timeout'],
    ['failed-exchange', 0, 'UND_ERR_HEADERS_TIMEOUT', 'timeout'],
    ['failed-exchange', 200, 'UND_ERR_BODY_TIMEOUT', 'timeout'],
    ['failed-exchange', 0, 'ECONNRESET', 'reset'],
    ['failed-exchange', 0, 'UND_ERR_SOCKET', 'reset'],
    ['failed-exchange', 0, STALLED_ERROR_CODE, 'stalled'],
    ['failed-exchange', 0, 'HPE_INVALID_CHUNK_SIZE', 'bad_response'],
    ['failed-exchange', 0, 'invalid upstream response header: x', 'bad_response'],
    // A reset in the middle of a 503 body is the reset, not the status.
    ['failed-exchange', 503, 'ECONNRESET', 'reset'],
    ['failed-status', 502, undefined, '5xx'],
    ['failed-status', 429, undefined, '4xx'],
    ['failed-exchange', 0, 'something new', 'other'],
    ['failed-exchange', 0, undefined, 'other'],
  ] as [ExchangeOutcome, number, string | undefined, string][])(
    '%s status %s error %s -> %s',
    (outcome, status, error, kind) => {
      expect(failureKind(outcome, status, error)).toBe(kind);
    },
  );
});
