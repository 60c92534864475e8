import { addVaryAcceptEncoding, isCompressibleType, negotiateEncoding } from './compression';

describe('negotiateEncoding', () => {
  it.each([
    ['gzip', 'gzip'],
    ['br', 'br'],
    ['gzip, br', 'br'],
    ['br;q=0.4, gzip;q=0.5', 'gzip'],
    ['BR;Q=1, GZIP', 'br'],
    ['x-gzip', 'gzip'],
    ['*', 'br'],
    ['*;q=0.5, br;q=0', 'gzip'],
    ['gzip;q=0', undefined],
    ['identity', undefined],
    ['deflate, compress', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%p -> %p', (accept, expected) => {
    expect(negotiateEncoding(accept)).toBe(expected);
    // Memoised answers are the same.
    expect(negotiateEncoding(accept)).toBe(expected);
  });
});

describe('isCompressibleType', () => {
  it.each([
    ['text/html; charset=utf-8', true],
    ['application/json', true],
    ['application/vnd.api+json', true],
    ['application/atom+xml', true],
    ['image/svg+xml', true],
    ['text/event-stream', false],
    ['image/png', false],
    ['application/octet-stream', false],
    ['video/mp4', false],
    [undefined, false],
  ])('%p -> %p', (type, expected) => {
    expect(isCompressibleType(type)).toBe(expected);
  });
});

describe('addVaryAcceptEncoding', () => {
  it('adds, appends, and never duplicates', () => {
    const a: string[] = [];
    addVaryAcceptEncoding(a);
    expect(a).toEqual(['vary', 'Accept-Encoding']);
    const b = ['Vary', 'Origin'];
    addVaryAcceptEncoding(b);
    expect(b).toEqual(['Vary', 'Origin, Accept-Encoding']);
    const c = ['vary', 'accept-encoding'];
    addVaryAcceptEncoding(c);
    expect(c).toEqual(['vary', 'accept-encoding']);
  });
});
