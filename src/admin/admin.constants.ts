/** Redis keys and channel of the admin API's shared state (every replica reads the same). */
export const ADMIN_REDIS_KEYS = {
  routes: 'gateway:admin:routes',
  ipLists: 'gateway:admin:ip-lists',
  drains: 'gateway:admin:drains',
} as const;

/** Pub/sub channel: `{"from": <instance id>, "kind": ...}` after every persisted change. */
export const ADMIN_CHANGES_CHANNEL = 'gateway:admin:changes';

/** Largest admin request body; a route table is a few KiB, so this is generous. */
export const ADMIN_MAX_BODY_BYTES = 1024 * 1024;

/** Failed admin authentications per client IP and window before answers turn 429. */
export const ADMIN_AUTH_MAX_FAILURES = 10;
export const ADMIN_AUTH_WINDOW_MS = 60_000;

/** Name of the bearer security scheme in the OpenAPI document. */
export const ADMIN_BEARER_SCHEME = 'admin-token';
/** Name of the API-key security scheme in the OpenAPI document. */
export const ADMIN_API_KEY_SCHEME = 'admin-api-key';
