import { wallClock, type Clock } from '../../common/clock';
import { isHmacAlgorithm, isJwtAlgorithm } from '../../common/crypto/jws-algorithms';
import type { JwtAlgorithm } from '../../config/gateway-config.types';
import { MAX_CREDENTIAL_LENGTH } from './auth.constants';
import type { JwksKeySet } from './jwks-key-set';
import type { VerificationKey } from './verification-key';

export interface JwtVerifierOptions {
  /** The pinned algorithms; a token with any other `alg` (and always `none`) is refused. */
  algorithms: readonly JwtAlgorithm[];
  /** For HS* tokens: the `JWT_SECRET` key. Never used for anything else. */
  hmacKey?: VerificationKey;
  /** For RS/PS/ES tokens: the `JWT_PUBLIC_KEY`. */
  publicKey?: VerificationKey;
  /** For RS/PS/ES tokens: keys by `kid` from `JWKS_URL`. */
  jwks?: JwksKeySet;
  /** Accepted `iss` values; not checked when empty. */
  issuers: readonly string[];
  /** Accepted `aud` values (one must be in the token); not checked when empty. */
  audiences: readonly string[];
  clockToleranceMs: number;
  /** @default wallClock */
  clock?: Clock;
}

export type JwtVerification =
  | { ok: true; claims: Record<string, unknown>; /** `exp` plus leeway. */ expiresAtMs: number }
  | { ok: false; reason: string };

interface ParsedToken {
  alg: JwtAlgorithm;
  kid: string | undefined;
  signingInput: Buffer;
  /** Still base64url: decoded only once the signature is good. */
  payload: string;
  signature: Buffer;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Verifies compact JWS tokens (RFC 7515/7519) with node:crypto on keys prepared at boot.
 *
 * Order matters for safety and cost: the header is checked first (size, shape, pinned `alg`,
 * no `crit`), then the signature, and only a correctly signed payload is parsed and its claims
 * checked (`exp` required; `nbf`, `iss`, `aud` as configured; one clock leeway for both bounds).
 * Header-supplied key locations (`jku`, `x5u`, `jwk`) are ignored: keys come from configuration
 * only (RFC 8725 §3.10).
 *
 * Synchronous except when a `kid` is missing from the JWKS and a refresh is allowed.
 */
export class JwtVerifier {
  private readonly accepted: ReadonlySet<JwtAlgorithm>;
  private readonly clock: Clock;
  private readonly toleranceSec: number;

  constructor(private readonly options: JwtVerifierOptions) {
    this.accepted = new Set(options.algorithms);
    this.clock = options.clock ?? wallClock;
    this.toleranceSec = options.clockToleranceMs / 1000;
  }

  verify(token: string): JwtVerification | Promise<JwtVerification> {
    const parsed = parseToken(token, this.accepted);
    if (typeof parsed === 'string') {
      return { ok: false, reason: parsed };
    }
    if (isHmacAlgorithm(parsed.alg)) {
      return this.check(parsed, this.options.hmacKey);
    }
    const { jwks, publicKey } = this.options;
    if (jwks !== undefined && parsed.kid !== undefined) {
      const kid = parsed.kid;
      const key = jwks.get(kid);
      if (key !== undefined) {
        return this.check(parsed, key);
      }
      const refresh = jwks.refreshForUnknownKid();
      if (refresh === undefined) {
        return publicKey === undefined
          ? { ok: false, reason: `unknown kid ${quote(kid)} (JWKS refresh cooling down)` }
          : this.check(parsed, publicKey);
      }
      return refresh.then(() => {
        const refreshed = jwks.get(kid) ?? publicKey;
        return refreshed === undefined
          ? { ok: false, reason: `unknown kid ${quote(kid)}` }
          : this.check(parsed, refreshed);
      });
    }
    // Without a kid: the configured public key, or the JWKS's only key for this algorithm.
    return this.check(parsed, publicKey ?? jwks?.soleKeyFor(parsed.alg));
  }

  private check(token: ParsedToken, key: VerificationKey | undefined): JwtVerification {
    if (key === undefined) {
      return { ok: false, reason: `no key for alg ${token.alg}` };
    }
    if (!key.algorithms.has(token.alg)) {
      return { ok: false, reason: `alg ${token.alg} does not fit the key` };
    }
    if (!key.verify(token.alg, token.signingInput, token.signature)) {
      return { ok: false, reason: 'bad signature' };
    }
    const claims = parseJson(Buffer.from(token.payload, 'base64url').toString('utf8'));
    if (claims === undefined) {
      return { ok: false, reason: 'payload is not a JSON object' };
    }
    return this.checkClaims(claims);
  }

  private checkClaims(claims: Record<string, unknown>): JwtVerification {
    const { exp, nbf, iat, iss, aud } = claims;
    if (typeof exp !== 'number' || !Number.isFinite(exp)) {
      return { ok: false, reason: exp === undefined ? 'no exp claim' : 'exp is not a number' };
    }
    if (
      (nbf !== undefined && (typeof nbf !== 'number' || !Number.isFinite(nbf))) ||
      (iat !== undefined && (typeof iat !== 'number' || !Number.isFinite(iat)))
    ) {
      return { ok: false, reason: 'nbf or iat is not a number' };
    }
    const now = this.clock() / 1000;
    if (now >= exp + this.toleranceSec) {
      return { ok: false, reason: 'expired' };
    }
    if (nbf !== undefined && now + this.toleranceSec < nbf) {
      return { ok: false, reason: 'not yet valid (nbf)' };
    }
    const { issuers, audiences } = this.options;
    if (issuers.length > 0 && (typeof iss !== 'string' || !issuers.includes(iss))) {
      return { ok: false, reason: 'issuer not accepted' };
    }
    if (audiences.length > 0 && !audienceMatches(aud, audiences)) {
      return { ok: false, reason: 'audience not accepted' };
    }
    return { ok: true, claims, expiresAtMs: (exp + this.toleranceSec) * 1000 };
  }
}

/** @returns the parsed token, or why it was refused. */
function parseToken(token: string, accepted: ReadonlySet<JwtAlgorithm>): ParsedToken | string {
  if (token.length > MAX_CREDENTIAL_LENGTH) {
    return 'token too long';
  }
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first < 0 || second < 0 || token.indexOf('.', second + 1) >= 0) {
    return 'malformed token (expected three parts)';
  }
  const encodedHeader = token.slice(0, first);
  const encodedPayload = token.slice(first + 1, second);
  const encodedSignature = token.slice(second + 1);
  // Node's base64url decoder skips junk silently, so the alphabet is checked first. An empty
  // signature (alg none) fails here too.
  if (
    !BASE64URL.test(encodedHeader) ||
    !BASE64URL.test(encodedPayload) ||
    !BASE64URL.test(encodedSignature)
  ) {
    return 'malformed token (not base64url)';
  }
  const header = parseJson(Buffer.from(encodedHeader, 'base64url').toString('utf8'));
  if (header === undefined) {
    return 'malformed header';
  }
  const { alg, kid, crit } = header;
  if (typeof alg !== 'string') {
    return 'no alg';
  }
  if (alg.toLowerCase() === 'none') {
    return 'alg none';
  }
  if (!isJwtAlgorithm(alg) || !accepted.has(alg)) {
    return `alg ${quote(alg)} not accepted`;
  }
  if (crit !== undefined) {
    // RFC 7515 §4.1.11: extensions we do not implement must make the token invalid.
    return 'crit header not supported';
  }
  if (kid !== undefined && typeof kid !== 'string') {
    return 'kid is not a string';
  }
  return {
    alg,
    kid,
    signingInput: Buffer.from(token.slice(0, second), 'latin1'),
    payload: encodedPayload,
    signature: Buffer.from(encodedSignature, 'base64url'),
  };
}

/** Client-supplied text in a log reason: quoted, escaped and short. */
function quote(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function audienceMatches(aud: unknown, accepted: readonly string[]): boolean {
  if (typeof aud === 'string') {
    return accepted.includes(aud);
  }
  return (
    Array.isArray(aud) && aud.some((item) => typeof item === 'string' && accepted.includes(item))
  );
}
