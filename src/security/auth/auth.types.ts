/**
 * What authentication produces. The proxy path gets an {@link AuthOutcome} from
 * `AuthService.authenticate()`; the admin API gets a {@link Principal} on the request from
 * `ApiKeyAuthGuard` (passport) for an `X-API-Key`.
 */

/** Who made the request. */
export interface Principal {
  kind: 'jwt' | 'api-key';
  /**
   * Stable identifier: the JWT `sub` (a number by its string form; empty when the token has no
   * string or numeric `sub`), or for an API key the first
   * 16 hex digits of its SHA-256 (enough to tell keys apart, useless to an attacker).
   */
  id: string;
  /**
   * Unique identity, the kind and `id` (`api-key:3f2a…`, `jwt:user-42`): what cache variants and
   * rate-limit buckets are keyed by. Never the `name`, which is only a label: two keys stored in
   * Redis by different operators may both be called `partner`.
   */
  key: string;
  /** API keys: the name from `API_KEYS_FILE`, when it has one. */
  name?: string;
  /** JWT: the verified payload. */
  claims?: Record<string, unknown>;
  /** API keys: the key's own token bucket (requests per second, capacity), when it has one. */
  rateLimit?: { rate: number; burst: number };
  /** API keys: the key may call the admin API (`scopes=admin`). */
  admin?: true;
}

/**
 * The result of checking a request's credentials. A success is shared by every request carrying
 * the same token while it is cached, so it is frozen: read it, never change it.
 */
export type AuthOutcome =
  | {
      ok: true;
      principal: Principal;
      /** Lower-case header → value, to add to the upstream request (forwarded claims). */
      upstreamHeaders: Record<string, string>;
    }
  | {
      ok: false;
      /** Always 401 today; 403 is reserved for credentials that are valid but not enough. */
      status: 401 | 403;
      /** Value of the `WWW-Authenticate` response header. */
      wwwAuthenticate: string;
      /** Which check failed, for the log only: never send it to the client. */
      reason: string;
    };
