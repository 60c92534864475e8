import type { IncomingMessage } from 'node:http';
import type { LiveEntry } from './cache-entry';
import { combineParts, requestedRange } from './partial-entry';
import { addSpan, covers, parseContentRange, resolveRange } from './ranges';

describe('byte ranges (RFC 9110 §14)', () => {
  it('resolves a-b, a- and -n against the length', () => {
    expect(resolveRange('bytes=0-1', 11)).toEqual([0, 1]);
    expect(resolveRange('bytes=1-', 11)).toEqual([1, 10]);
    expect(resolveRange('bytes=-1', 11)).toEqual([10, 10]);
    expect(resolveRange('bytes=-50', 11)).toEqual([0, 10]);
    expect(resolveRange('bytes=5-500', 11)).toEqual([5, 10]);
  });

  it('unsatisfiable ranges and forms it does not serve', () => {
    expect(resolveRange('bytes=11-', 11)).toBe('unsatisfiable');
    expect(resolveRange('bytes=-0', 11)).toBe('unsatisfiable');
    for (const ignored of ['bytes=0-1,3-4', 'items=0-1', 'bytes=5-1', 'bytes=-', 'nonsense']) {
      expect(resolveRange(ignored, 11)).toBeUndefined();
    }
  });

  it('Content-Range with a known length; spans merge', () => {
    expect(parseContentRange('bytes 4-9/10')).toEqual({ span: [4, 9], length: 10 });
    expect(parseContentRange('bytes 4-9/*')).toBeUndefined();
    expect(parseContentRange('bytes 4-10/10')).toBeUndefined();
    expect(addSpan([[0, 4]], [5, 9])).toEqual([[0, 9]]);
    expect(addSpan([[6, 9]], [0, 2])).toEqual([
      [0, 2],
      [6, 9],
    ]);
    expect(covers([[4, 9]], [6, 8])).toBe(true);
    expect(covers([[4, 9]], [3, 8])).toBe(false);
  });
});

const req = (headers: Record<string, string>, method = 'GET') =>
  ({ headers, method }) as unknown as IncomingMessage;

function partEntry(span: [number, number], bytes: string, etag = '"e"'): LiveEntry {
  const body = Buffer.alloc(10);
  Buffer.from(bytes).copy(body, span[0]);
  return {
    status: 200,
    headers: [],
    body,
    responseTime: 0,
    initialAgeMs: 0,
    freshnessMs: 1000,
    staleWhileRevalidateMs: 0,
    staleIfErrorMs: 0,
    mustRevalidate: false,
    noCache: false,
    sharedWithAuth: false,
    etag,
    lastModified: undefined,
    vary: [],
    variant: '',
    compressible: false,
    expiresAt: 1000,
    partial: { length: 10, have: [span] },
  };
}

describe('partial entries (RFC 9111 §3.3, §3.4)', () => {
  it('parts with one strong validator combine, and become complete when every byte is held', () => {
    const a = partEntry([0, 4], '01234');
    const b = partEntry([5, 9], '56789');
    const whole = combineParts(a, b);
    expect(whole.partial).toBeUndefined();
    expect(whole.body.toString()).toBe('0123456789');
    const half = combineParts(a, partEntry([6, 9], '6789'));
    expect(half.partial?.have).toEqual([
      [0, 4],
      [6, 9],
    ]);
  });

  it('parts of other validators (or weak ones) replace, never mix', () => {
    expect(
      combineParts(partEntry([0, 4], '01234'), partEntry([5, 9], '56789', '"f"')).partial?.have,
    ).toEqual([[5, 9]]);
    expect(
      combineParts(partEntry([0, 4], '01234', 'W/"e"'), partEntry([5, 9], '56789', 'W/"e"')).partial
        ?.have,
    ).toEqual([[5, 9]]);
  });

  it('If-Range that no longer matches asks for the whole representation', () => {
    const e = partEntry([0, 9], '0123456789');
    expect(requestedRange(e, req({ range: 'bytes=0-1', 'if-range': '"e"' }))).toEqual([0, 1]);
    expect(requestedRange(e, req({ range: 'bytes=0-1', 'if-range': '"other"' }))).toBeUndefined();
    expect(requestedRange(e, req({ range: 'bytes=0-1' }, 'HEAD'))).toBeUndefined();
  });
});
