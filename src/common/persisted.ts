/**
 * What an admin answer, its audit line and a reload say about one change: where it was kept
 * (Redis, the config file, or this process's memory), or `failed` when it was applied on this
 * replica but could not be kept.
 */
export const PERSISTED = ['redis', 'config-file', 'memory', 'failed'] as const;
export type Persisted = (typeof PERSISTED)[number];
