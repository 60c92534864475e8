import { createHash } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';

export interface ConfigWatcherOptions {
  /** Absolute paths of the files whose content is the configuration (config file, `.env`). */
  files: readonly string[];
  /** Called once per new content of the files (not for content {@link ConfigWatcher.acknowledge}d). */
  onChange: () => void;
  /** Quiet time after the last file event before the files are read. @default 200 */
  debounceMs?: number;
  /** Files are also compared on this period, for filesystems without events. @default 2000 */
  pollMs?: number;
  /** Told when a directory cannot be watched (polling still runs). */
  onWatchError?: (dir: string, err: Error) => void;
}

/**
 * Watches configuration files by content, for `GATEWAY_CONFIG_WATCH`. The directories are watched
 * rather than the files, so a replaced file is seen too: editors that save by renaming, and
 * Kubernetes ConfigMap volumes, where the file is a symlink through `..data` and an update swaps
 * that symlink to a new directory (a watch on the file would stay on the old, deleted one). Events
 * only prompt a comparison of the files' content with the last known, so touching a file, a
 * change to an unrelated file of the directory, or the admin API writing back what it applied
 * ({@link acknowledge}) never causes a reload. A slow poll covers filesystems that send no events.
 */
export class ConfigWatcher {
  private known: string;
  private readonly watchers: FSWatcher[] = [];
  private debounce: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;

  constructor(private readonly options: ConfigWatcherOptions) {
    this.known = this.fingerprint();
  }

  start(): void {
    const debounceMs = this.options.debounceMs ?? 200;
    for (const dir of new Set(this.options.files.map((file) => dirname(file)))) {
      try {
        const watcher = watch(dir, { persistent: false }, () => {
          clearTimeout(this.debounce);
          this.debounce = setTimeout(() => this.check(), debounceMs);
          this.debounce.unref();
        });
        watcher.on('error', (err) => this.options.onWatchError?.(dir, err));
        this.watchers.push(watcher);
      } catch (err) {
        this.options.onWatchError?.(dir, err as Error);
      }
    }
    this.poll = setInterval(() => this.check(), this.options.pollMs ?? 2_000);
    this.poll.unref();
  }

  stop(): void {
    clearTimeout(this.debounce);
    clearInterval(this.poll);
    for (const watcher of this.watchers.splice(0)) {
      watcher.close();
    }
  }

  /** The files' current content is the running configuration's: do not reload for it. */
  acknowledge(): void {
    this.known = this.fingerprint();
  }

  /** Compares the files with the known content, and reports a change once. */
  check(): void {
    const now = this.fingerprint();
    if (now !== this.known) {
      this.known = now;
      this.options.onChange();
    }
  }

  private fingerprint(): string {
    const hash = createHash('sha256');
    for (const file of this.options.files) {
      let content: Buffer | string;
      try {
        content = readFileSync(file);
      } catch {
        // Missing (being replaced, or no .env): its own state, distinct from any content.
        content = '\u0000missing';
      }
      hash.update(file).update('\u0000').update(content).update('\u0000');
    }
    return hash.digest('hex');
  }
}
