import { buildSecurityHeaders } from '../security/headers/security-headers';
import {
  buildView,
  isEntryCompressible,
  mergeExtra,
  storedHeaders,
  updateHeaders,
} from './stored-headers';

describe('stored headers', () => {
  it('drops hop-by-hop, Connection-listed and per-response headers', () => {
    const raw = [
      'Connection',
      'x-hop',
      'X-Hop',
      '1',
      'Keep-Alive',
      't=5',
      'Age',
      '3',
      'X-Request-Id',
      'u',
      'Content-Type',
      'text/plain',
      'ETag',
      '"a"',
    ];
    expect(storedHeaders(raw.map((h) => Buffer.from(h, 'latin1')))).toEqual([
      'Content-Type',
      'text/plain',
      'ETag',
      '"a"',
    ]);
  });

  it('a 304 replaces the headers it carries, except the body framing ones', () => {
    const stored = [
      'content-type',
      'text/plain',
      'content-length',
      '5',
      'x-v',
      '1',
      'cache-control',
      'max-age=1',
    ];
    const fresh = ['X-V', '2', 'content-length', '0', 'cache-control', 'max-age=60'];
    expect(updateHeaders(stored, fresh)).toEqual([
      'content-type',
      'text/plain',
      'content-length',
      '5',
      'X-V',
      '2',
      'cache-control',
      'max-age=60',
    ]);
  });

  it('views: exact length added later, compressed kind marks the coding and weakens the ETag, security headers fill in', () => {
    const security = buildSecurityHeaders(true);
    const headers = [
      'content-type',
      'application/json',
      'content-length',
      '9',
      'etag',
      '"x"',
      'x-frame-options',
      'SAMEORIGIN',
    ];
    const gz = buildView(headers, 'gzip', true, security, false);
    expect(gz).not.toContain('content-length');
    expect(gz).toEqual(
      expect.arrayContaining([
        'content-encoding',
        'gzip',
        'etag',
        'W/"x"',
        'vary',
        'Accept-Encoding',
      ]),
    );
    // The upstream's own security header is kept, not duplicated.
    expect(gz.filter((h) => h.toLowerCase() === 'x-frame-options')).toHaveLength(1);
    const plain = buildView(headers, '', false, security, false);
    expect(plain).toContain('"x"');
    expect(plain).not.toContain('vary');
  });

  it('per-request extras replace same-name headers and merge Vary', () => {
    expect(
      mergeExtra(['vary', 'Accept-Encoding', 'x-a', '1'], ['vary', 'Origin', 'x-a', '2']),
    ).toEqual(['vary', 'Accept-Encoding, Origin', 'x-a', '2']);
  });

  it('per-request extras match stored names in any case, view after view, and leave the view as it was', () => {
    const view = [
      'Vary',
      'Accept-Encoding',
      'X-RateLimit-Limit',
      '5',
      'Content-Type',
      'text/plain',
    ];
    const extra = ['x-ratelimit-limit', '10', 'vary', 'Origin'];
    const expected = [
      'Content-Type',
      'text/plain',
      'x-ratelimit-limit',
      '10',
      'vary',
      'Accept-Encoding, Origin',
    ];
    expect(mergeExtra(view, extra)).toEqual(expected);
    // Second call: the names computed for this view are reused.
    const again = mergeExtra(view, extra);
    expect(again).toEqual(expected);
    again.push('age', '1');
    expect(view).toHaveLength(6);
    expect(mergeExtra(['x-other', '1'], extra)).toEqual(['x-other', '1', ...extra]);
  });

  it('compressible entries: identity, transformable, compressible type', () => {
    expect(isEntryCompressible(['content-type', 'text/html'])).toBe(true);
    expect(isEntryCompressible(['content-type', 'text/html', 'content-encoding', 'gzip'])).toBe(
      false,
    );
    expect(
      isEntryCompressible(['content-type', 'text/html', 'cache-control', 'no-transform']),
    ).toBe(false);
    expect(isEntryCompressible(['content-type', 'image/png'])).toBe(false);
  });
});
