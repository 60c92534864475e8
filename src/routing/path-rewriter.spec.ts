import { joinPaths, mergeQuery } from './path-rewriter';

describe('joinPaths', () => {
  it.each([
    ['', '/x', '/x'],
    ['/', '/x', '/x'],
    ['/v1', '/x', '/v1/x'],
    ['/v1/', '/x', '/v1/x'],
    ['/v1', '/', '/v1/'],
    ['/v1', 'x', '/v1/x'],
  ])('should join %p and %p into %p', (base, path, expected) => {
    expect(joinPaths(base, path)).toBe(expected);
  });
});

describe('mergeQuery', () => {
  it('should put the target query before the client query', () => {
    expect(mergeQuery('a=1', 'b=2')).toBe('a=1&b=2');
    expect(mergeQuery('', 'b=2')).toBe('b=2');
    expect(mergeQuery('a=1', '')).toBe('a=1');
    expect(mergeQuery('', '')).toBe('');
  });
});
