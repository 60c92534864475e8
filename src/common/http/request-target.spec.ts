import { hasRepeatedHost, splitTarget } from './request-target';

describe('splitTarget', () => {
  it.each([
    ['/a/b?x=1', { path: '/a/b', query: 'x=1', authority: undefined }],
    ['/a', { path: '/a', query: '', authority: undefined }],
    ['http://h.example/a?x', { path: '/a', query: 'x', authority: 'h.example' }],
    ['HTTPS://H.example:8443/', { path: '/', query: '', authority: 'H.example:8443' }],
    ['http://h.example', { path: '/', query: '', authority: 'h.example' }],
    ['http://h.example?q=1', { path: '/', query: 'q=1', authority: 'h.example' }],
    ['http://u:p@h.example/x', { path: '/x', query: '', authority: 'u:p@h.example' }],
    ['http:///x', { path: '/x', query: '', authority: '' }],
    ['ftp://h/x', { path: 'ftp://h/x', query: '', authority: undefined }],
    ['*', { path: '*', query: '', authority: undefined }],
  ])('splits %j', (url, expected) => {
    expect(splitTarget(url)).toEqual(expected);
  });
});

describe('hasRepeatedHost', () => {
  it('finds a second Host line in any case', () => {
    expect(hasRepeatedHost(['Host', 'a', 'Accept', '*/*'])).toBe(false);
    expect(hasRepeatedHost(['Host', 'a', 'Date', 'x', 'HOST', 'b'])).toBe(true);
    expect(hasRepeatedHost(['host', 'a', 'hOsT', 'a'])).toBe(true);
    expect(hasRepeatedHost([])).toBe(false);
  });
});
