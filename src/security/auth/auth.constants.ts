/** Request header carrying an API key (matched case-insensitively, as all header names). */
export const API_KEY_HEADER = 'x-api-key';

/** RFC 6750 §3 challenges. No `error_description`: a client is never told which check failed. */
export const BEARER_CHALLENGE = 'Bearer realm="gateway"';
export const INVALID_TOKEN_CHALLENGE = 'Bearer realm="gateway", error="invalid_token"';
/** Routes that accept API keys only: no standard scheme exists; Kong's key-auth answers the same. */
export const API_KEY_CHALLENGE = 'Key realm="gateway"';

/**
 * Headers an API key's identity goes upstream in, as a JWT's claims do: its id (the first 16 hex
 * digits of its SHA-256) and its name. A client's own copies are always removed.
 */
export const API_KEY_ID_HEADER = 'x-api-key-id';
export const API_KEY_NAME_HEADER = 'x-api-key-name';

/** Longest bearer token or API key looked at; anything longer is refused unread. */
export const MAX_CREDENTIAL_LENGTH = 8192;

/** How long a JWKS request may take, at startup and later. */
export const JWKS_TIMEOUT_MS = 5_000;
/** Least time between two JWKS fetches caused by tokens with an unknown `kid`. */
export const JWKS_UNKNOWN_KID_COOLDOWN_MS = 30_000;
/** Periodic JWKS refresh, so rotated and revoked keys are picked up without an unknown `kid`. */
export const JWKS_REFRESH_INTERVAL_MS = 10 * 60_000;
/** Largest JWKS document accepted. */
export const JWKS_MAX_BYTES = 1024 * 1024;
/** Most keys taken from one JWKS document. */
export const JWKS_MAX_KEYS = 100;

/**
 * Verified tokens remembered, so a client sending the same token again skips the signature check
 * (RS256 and ES256 cost tens of microseconds). Entries never outlive the token's `exp`.
 */
export const VERIFIED_TOKEN_CACHE_SIZE = 10_000;
