import type { Persisted } from '../../common/persisted';
import type { RouteConfig } from '../../config/gateway-config.types';
import type { IpListEntry } from '../../security/ip-filter/ip-list';
import type { RouteOp } from '../config-file-writer';

export { PERSISTED, type Persisted } from '../../common/persisted';

/** Where a store keeps admin changes (README "Admin API", Persistence). */
export type Persistence = Exclude<Persisted, 'failed'>;

/** A drained upstream: by URL on every route, or on one route only. */
export interface DrainRule {
  url: string;
  route?: string;
}

export interface IpListsState {
  allow: IpListEntry[];
  deny: IpListEntry[];
}

/** The running route table handed to a store to keep. */
export interface RouteState {
  routes: readonly RouteConfig[];
  /**
   * Routes as the JSON array of their config-file form, built in slices (a table may hold
   * 20,000 routes, and serialising it at once would stall traffic).
   */
  json: (routes: readonly RouteConfig[]) => Promise<string>;
  /** The one change this table came from (an admin add, replace or remove), as a file entry. */
  change?: RouteOp;
}

/**
 * What a store that shares state between replicas hands back when another replica changed it
 * (or at boot and after a reconnect, the state stored meanwhile). Values come from outside the
 * process: the service validates them before applying.
 */
export interface AdminStateListener {
  /** The stored table, as the JSON text it was kept in; validated before it is applied. */
  routes(json: string, source: string): Promise<void>;
  ipLists(lists: unknown): void;
  drains(rules: unknown): void;
  /** An API key was created or revoked elsewhere: drop the cached answer for this SHA-256 hex. */
  apiKeyChanged(hash: string): void;
}

/**
 * Where the admin API keeps routes, IP lists and drains, chosen once at boot by a provider
 * factory (`adminStateStoreProvider`): Redis (shared by every replica), the `GATEWAY_CONFIG` file,
 * or memory. The service applies every change itself and asks the store only to keep it, so the
 * store never decides what the running gateway does.
 *
 * Each `save…` resolves to where the change was kept, and never rejects: a store that cannot
 * write logs why and answers `failed`.
 */
export abstract class AdminStateStore {
  abstract readonly persistence: Persistence;

  abstract saveRoutes(routes: RouteState): Promise<Persisted>;

  abstract saveIpLists(lists: IpListsState): Promise<Persisted>;

  abstract saveDrains(rules: readonly DrainRule[]): Promise<Persisted>;

  /**
   * A reload made the configuration file the truth again: a store whose state replaces the
   * file's at boot (Redis) stores the reloaded routes and lists; the file is already the state of
   * the others.
   */
  abstract adoptReload(routes: RouteState, lists: IpListsState): Promise<Persisted>;

  /** Tells other replicas that an API key was created or revoked. */
  abstract announceApiKeyChange(hash: string): Promise<void>;

  /** Starts following other replicas' changes; a store that shares nothing does nothing. */
  abstract start(listener: AdminStateListener): void;

  abstract stop(): void;
}
