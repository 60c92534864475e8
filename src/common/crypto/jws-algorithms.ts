/**
 * The JWS algorithms the gateway verifies (RFC 7518 §3), and which public keys fit which
 * algorithm. Shared by the config loader (to refuse a key or pin that can never verify anything)
 * and the JWT verifier (to refuse a token whose `alg` does not fit the key: RFC 8725 §3.1, the
 * HMAC/RSA confusion).
 */
import { constants, type KeyObject } from 'node:crypto';

/** JWS algorithms the gateway can verify; `none` is deliberately absent. */
export const JWT_ALGORITHMS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

export type JwsKeyKind = 'hmac' | 'rsa' | 'rsa-pss' | 'ec';

export interface JwsAlgorithmSpec {
  readonly kind: JwsKeyKind;
  /** node:crypto digest name. */
  readonly hash: 'sha256' | 'sha384' | 'sha512';
  /** EC only: the curve (node's name) and the JOSE `r || s` signature length. */
  readonly curve?: 'prime256v1' | 'secp384r1' | 'secp521r1';
  readonly signatureBytes?: number;
  /** Shortest HMAC key (RFC 7518 §3.2: at least the hash size). */
  readonly minKeyBytes?: number;
}

export const JWS_ALGORITHMS: Readonly<Record<JwtAlgorithm, JwsAlgorithmSpec>> = {
  HS256: { kind: 'hmac', hash: 'sha256', minKeyBytes: 32 },
  HS384: { kind: 'hmac', hash: 'sha384', minKeyBytes: 48 },
  HS512: { kind: 'hmac', hash: 'sha512', minKeyBytes: 64 },
  RS256: { kind: 'rsa', hash: 'sha256' },
  RS384: { kind: 'rsa', hash: 'sha384' },
  RS512: { kind: 'rsa', hash: 'sha512' },
  PS256: { kind: 'rsa-pss', hash: 'sha256' },
  PS384: { kind: 'rsa-pss', hash: 'sha384' },
  PS512: { kind: 'rsa-pss', hash: 'sha512' },
  ES256: { kind: 'ec', hash: 'sha256', curve: 'prime256v1', signatureBytes: 64 },
  ES384: { kind: 'ec', hash: 'sha384', curve: 'secp384r1', signatureBytes: 96 },
  ES512: { kind: 'ec', hash: 'sha512', curve: 'secp521r1', signatureBytes: 132 },
};

/** RSA keys below this size are refused (NIST SP 800-131A). */
export const MIN_RSA_KEY_BITS = 2048;

const KNOWN = new Set<string>(JWT_ALGORITHMS);

export function isJwtAlgorithm(value: string): value is JwtAlgorithm {
  return KNOWN.has(value);
}

export function isHmacAlgorithm(alg: JwtAlgorithm): boolean {
  return JWS_ALGORITHMS[alg].kind === 'hmac';
}

/**
 * The algorithms a public key can verify: an RSA key RS* and PS*, an RSA-PSS key PS*, an EC key
 * the one ES* of its curve. Empty for anything else (Ed25519, DSA, small RSA keys), and always
 * empty of HS*: a public key is never an HMAC secret.
 */
export function algorithmsForPublicKey(key: KeyObject): JwtAlgorithm[] {
  if (key.type !== 'public') {
    return [];
  }
  const details = key.asymmetricKeyDetails ?? {};
  const type = key.asymmetricKeyType;
  if (type === 'rsa' || type === 'rsa-pss') {
    if ((details.modulusLength ?? 0) < MIN_RSA_KEY_BITS) {
      return [];
    }
    return JWT_ALGORITHMS.filter((alg) => {
      const kind = JWS_ALGORITHMS[alg].kind;
      return kind === 'rsa-pss' || (kind === 'rsa' && type === 'rsa');
    });
  }
  if (type === 'ec') {
    return JWT_ALGORITHMS.filter((alg) => JWS_ALGORITHMS[alg].curve === details.namedCurve);
  }
  return [];
}

/** Why a public key cannot be used, or undefined when it can. */
export function publicKeyProblem(key: KeyObject): string | undefined {
  if (algorithmsForPublicKey(key).length > 0) {
    return undefined;
  }
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') {
    return `RSA key of ${details.modulusLength} bits; at least ${MIN_RSA_KEY_BITS} are required`;
  }
  if (key.asymmetricKeyType === 'ec') {
    return `unsupported EC curve ${String(details.namedCurve)} (expected P-256, P-384 or P-521)`;
  }
  return `unsupported key type ${String(key.asymmetricKeyType)} (expected RSA or EC)`;
}

/** The algorithm a key is normally used with, for the derived `JWT_ALGORITHMS` default. */
export function defaultAlgorithmForPublicKey(key: KeyObject): JwtAlgorithm | undefined {
  const algorithms = algorithmsForPublicKey(key);
  return algorithms[0];
}

/** Options for `crypto.verify` with a public key and an asymmetric algorithm. */
export function verifyKeyOptions(
  key: KeyObject,
  alg: JwtAlgorithm,
): { key: KeyObject; padding?: number; saltLength?: number; dsaEncoding?: 'ieee-p1363' } {
  switch (JWS_ALGORITHMS[alg].kind) {
    case 'rsa-pss':
      // RFC 7518 §3.5: the salt is as long as the hash.
      return {
        key,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
      };
    case 'ec':
      // JOSE signatures are r || s (RFC 7518 §3.4), not DER.
      return { key, dsaEncoding: 'ieee-p1363' };
    case 'rsa':
    case 'hmac':
      return { key };
  }
}
