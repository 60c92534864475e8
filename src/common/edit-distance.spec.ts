import { editDistance } from './edit-distance';

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['', 'abc', 3],
    ['kitten', 'sitting', 3],
    ['ENABLE_CACHE', 'ENABLE_CACHING', 3],
    ['same', 'same', 0],
  ])('should count %j → %j as %i edits', (a, b, n) => {
    expect(editDistance(a, b)).toBe(n);
    expect(editDistance(a, b, true)).toBe(n);
  });

  it('should count a swap of adjacent characters twice, or once with swaps', () => {
    expect(editDistance('GATEWAY_PROT', 'GATEWAY_PORT')).toBe(2);
    expect(editDistance('GATEWAY_PROT', 'GATEWAY_PORT', true)).toBe(1);
    expect(editDistance('ab', 'ba', true)).toBe(1);
  });
});
