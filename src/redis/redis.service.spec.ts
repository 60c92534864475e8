import { createServer } from 'node:net';
import { Logger } from '@nestjs/common';
import { RedisService } from './redis.service';

/** A port nothing listens on: bound, read, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') {
    throw new Error('no port');
  }
  return address.port;
}

describe('RedisService', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('should create no client without a URL and shut down cleanly', async () => {
    const redis = new RedisService({});

    expect(redis.client).toBeUndefined();
    expect(redis.isReady).toBe(false);
    expect(redis.duplicate()).toBeUndefined();
    redis.reportFailure(new Error('ignored'));
    await expect(redis.onApplicationShutdown()).resolves.toBeUndefined();
  });

  it('should survive an unreachable Redis, log the outage once, and fail commands fast', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const redis = new RedisService({ url: `redis://127.0.0.1:${await closedPort()}` });
    const states: boolean[] = [];
    redis.onStatusChange((ready) => states.push(ready));

    // Several reconnect attempts fail meanwhile (100 ms, 200 ms, …).
    await new Promise((resolve) => setTimeout(resolve, 700));
    const started = Date.now();
    await expect(redis.client?.get('k')).rejects.toThrow();

    expect(Date.now() - started).toBeLessThan(100);
    expect(redis.isReady).toBe(false);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/^Redis unavailable \(.*ECONNREFUSED/);
    expect(states).toEqual([false]);
    await redis.onApplicationShutdown();
  });
});
