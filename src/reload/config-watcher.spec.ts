import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigWatcher } from './config-watcher';

const until = async (check: () => boolean, ms = 3_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error('timed out');
    }
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('ConfigWatcher', () => {
  let dir: string;
  let watcher: ConfigWatcher | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gw-watch-'));
  });
  afterEach(() => {
    watcher?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('should report each new content once, and nothing for a touch or an acknowledged write', async () => {
    const file = join(dir, 'gw.yaml');
    writeFileSync(file, 'a: 1\n');
    let changes = 0;
    watcher = new ConfigWatcher({
      files: [file, join(dir, '.env')],
      onChange: () => changes++,
      debounceMs: 20,
      pollMs: 60_000,
    });
    watcher.start();

    writeFileSync(file, 'a: 2\n');
    await until(() => changes === 1);
    writeFileSync(file, 'a: 2\n');
    writeFileSync(join(dir, 'unrelated.txt'), 'x');
    writeFileSync(file, 'a: 3\n');
    watcher.acknowledge();
    await new Promise((r) => setTimeout(r, 200));
    expect(changes).toBe(1);

    // A .env appearing is a change too.
    writeFileSync(join(dir, '.env'), 'LOG_LEVEL=debug\n');
    await until(() => changes === 2);
  });

  it('should see a Kubernetes ConfigMap update: the ..data symlink swapped to a new directory', async () => {
    // The layout the kubelet writes: gw.yaml -> ..data/gw.yaml, ..data -> ..2024_01_01_v1
    mkdirSync(join(dir, '..v1'));
    writeFileSync(join(dir, '..v1', 'gw.yaml'), 'routes: []\n');
    symlinkSync('..v1', join(dir, '..data'));
    symlinkSync(join('..data', 'gw.yaml'), join(dir, 'gw.yaml'));
    let changes = 0;
    watcher = new ConfigWatcher({
      files: [join(dir, 'gw.yaml')],
      onChange: () => changes++,
      debounceMs: 20,
      pollMs: 60_000,
    });
    watcher.start();

    mkdirSync(join(dir, '..v2'));
    writeFileSync(join(dir, '..v2', 'gw.yaml'), 'routes: [{}]\n');
    symlinkSync('..v2', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    rmSync(join(dir, '..v1'), { recursive: true });

    await until(() => changes === 1);
  });

  it('should find changes by polling where the filesystem sends no events', () => {
    const file = join(dir, 'gw.yaml');
    writeFileSync(file, 'a: 1\n');
    let changes = 0;
    watcher = new ConfigWatcher({ files: [file], onChange: () => changes++, pollMs: 50 });
    // Not started as a watcher: only check(), as the poll calls it.
    writeFileSync(file, 'a: 2\n');
    watcher.check();
    watcher.check();
    expect(changes).toBe(1);
  });
});
