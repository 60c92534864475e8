import { maybeThen } from './maybe-then';

describe('maybeThen', () => {
  it('should run synchronously for a plain value', () => {
    const out = maybeThen(2, (v) => v * 3);
    expect(out).toBe(6);
  });

  it('should chain on a promise', async () => {
    const out = maybeThen(Promise.resolve(2), (v) => v * 3);
    expect(out).toBeInstanceOf(Promise);
    await expect(out).resolves.toBe(6);
  });
});
