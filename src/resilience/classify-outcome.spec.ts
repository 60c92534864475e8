import { classifyOutcome, type ExchangeOutcome, type ExchangeResult } from './classify-outcome';

describe('classifyOutcome', () => {
  const cases: [string, ExchangeResult, ExchangeOutcome][] = [
    // Transport errors from the upstream side.
    ['connection refused', { error: { code: 'ECONNREFUSED' }, clientAborted: false }, 'failure'],
    [
      'connect timeout',
      { error: { code: 'UND_ERR_CONNECT_TIMEOUT' }, clientAborted: false },
      'failure',
    ],
    ['DNS failure', { error: { code: 'ENOTFOUND' }, clientAborted: false }, 'failure'],
    ['reset', { error: { code: 'ECONNRESET' }, clientAborted: false }, 'failure'],
    ['socket closed', { error: { code: 'UND_ERR_SOCKET' }, clientAborted: false }, 'failure'],
    [
      'headers timeout',
      { error: { code: 'UND_ERR_HEADERS_TIMEOUT' }, clientAborted: false },
      'failure',
    ],
    ['body timeout', { error: { code: 'UND_ERR_BODY_TIMEOUT' }, clientAborted: false }, 'failure'],
    [
      'malformed response',
      { error: { code: 'HPE_INVALID_CONSTANT' }, clientAborted: false },
      'failure',
    ],
    ['error without a code', { error: {}, clientAborted: false }, 'failure'],
    [
      'reset in the middle of a 200 body',
      { status: 200, error: { code: 'ECONNRESET' }, clientAborted: false },
      'failure',
    ],
    // Statuses.
    ['500', { status: 500, clientAborted: false }, 'failure'],
    ['502', { status: 502, clientAborted: false }, 'failure'],
    ['503', { status: 503, clientAborted: false }, 'failure'],
    ['504', { status: 504, clientAborted: false }, 'failure'],
    ['507', { status: 507, clientAborted: false }, 'failure'],
    ['501 (the request, not the server)', { status: 501, clientAborted: false }, 'success'],
    ['505 (the request, not the server)', { status: 505, clientAborted: false }, 'success'],
    ['200', { status: 200, clientAborted: false }, 'success'],
    ['204', { status: 204, clientAborted: false }, 'success'],
    ['304', { status: 304, clientAborted: false }, 'success'],
    ['400', { status: 400, clientAborted: false }, 'success'],
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
    ['client abort after a 503 had arrived', { status: 503, clientAborted: true }, 'failure'],
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
    expect(classifyOutcome(result)).toBe(expected);
  });
});
