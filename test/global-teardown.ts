import { rmSync } from 'node:fs';

/** Stops the redis-server of global-setup.ts by pid and removes its directory. */
export default function globalTeardown(): void {
  const redis = (globalThis as { __GATEWAY_TEST_REDIS__?: { pid: number; dir: string } })
    .__GATEWAY_TEST_REDIS__;
  if (redis === undefined) {
    return;
  }
  try {
    process.kill(redis.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
  rmSync(redis.dir, { recursive: true, force: true });
}
