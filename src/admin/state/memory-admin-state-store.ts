import {
  AdminStateStore,
  type AdminStateListener,
  type DrainRule,
  type IpListsState,
  type Persisted,
  type RouteState,
} from './admin-state-store';

/** No Redis and no config file: changes live in this process until it stops. */
export class MemoryAdminStateStore extends AdminStateStore {
  readonly persistence = 'memory';

  saveRoutes(_routes: RouteState): Promise<Persisted> {
    return Promise.resolve('memory');
  }

  saveIpLists(_lists: IpListsState): Promise<Persisted> {
    return Promise.resolve('memory');
  }

  saveDrains(_rules: readonly DrainRule[]): Promise<Persisted> {
    return Promise.resolve('memory');
  }

  adoptReload(_routes: RouteState, _lists: IpListsState): Promise<Persisted> {
    return Promise.resolve('memory');
  }

  announceApiKeyChange(_hash: string): Promise<void> {
    return Promise.resolve();
  }

  start(_listener: AdminStateListener): void {
    // Nothing is shared.
  }

  stop(): void {
    // Nothing to stop.
  }
}
