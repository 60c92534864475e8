import { RenderCache } from './render-cache';

describe('RenderCache', () => {
  let now = 0;
  const clock = (): number => now;

  beforeEach(() => {
    now = 1_000;
  });

  it('should render once per key and reuse the answer until the TTL has passed', async () => {
    const cache = new RenderCache<string>(1_000, clock);
    let renders = 0;
    const render = (): Promise<string> => Promise.resolve(`render ${++renders}`);

    expect(await cache.get('text', render)).toBe('render 1');
    now += 999;
    expect(await cache.get('text', render)).toBe('render 1');
    expect(await cache.get('openmetrics', render)).toBe('render 2');
    now += 1;
    expect(await cache.get('text', render)).toBe('render 3');
    expect(renders).toBe(3);
  });

  it('should share one rendering among requests that arrive while it runs', async () => {
    const cache = new RenderCache<string>(1_000, clock);
    let release: (body: string) => void = () => undefined;
    let renders = 0;
    const render = (): Promise<string> => {
      renders++;
      return new Promise((resolve) => (release = resolve));
    };

    const first = cache.get('text', render);
    const second = cache.get('text', render);
    release('body');

    expect(await Promise.all([first, second])).toEqual(['body', 'body']);
    expect(renders).toBe(1);
  });

  it('should not keep a failed rendering', async () => {
    const cache = new RenderCache<string>(1_000, clock);
    await expect(cache.get('text', () => Promise.reject(new Error('boom')))).rejects.toThrow(
      'boom',
    );
    expect(await cache.get('text', () => Promise.resolve('ok'))).toBe('ok');
  });
});
