import { samePlainData } from './same-plain-data';

describe('samePlainData', () => {
  it.each([
    [1, 1],
    ['a', 'a'],
    [NaN, NaN],
    [null, null],
    [undefined, undefined],
    [[], []],
    [{}, {}],
    [
      { a: 1, b: [1, { c: 'x' }] },
      { b: [1, { c: 'x' }], a: 1 },
    ],
    [{ a: 1, b: undefined }, { a: 1 }],
    [{ a: 1 }, { a: 1, b: undefined }],
  ])('should find %p and %p equal', (a, b) => {
    expect(samePlainData(a, b)).toBe(true);
  });

  it.each([
    [1, 2],
    [1, '1'],
    [0, -0],
    [null, undefined],
    [null, {}],
    [[], {}],
    [{}, []],
    [[1, 2], [1]],
    [[1], [1, 2]],
    [{ a: 1 }, { a: 2 }],
    [{ a: 1 }, { b: 1 }],
    [{ a: 1 }, { a: 1, b: 0 }],
    [{ a: 1, b: 0 }, { a: 1 }],
    [{ a: { b: [1, 2] } }, { a: { b: [1, 3] } }],
    [new Date(0), {}],
  ])('should find %p and %p different', (a, b) => {
    expect(samePlainData(a, b)).toBe(false);
  });
});
