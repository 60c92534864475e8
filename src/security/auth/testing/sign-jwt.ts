/**
 * Test helper: signs JWTs with node:crypto, including the malformed and malicious ones a verifier
 * must refuse (`alg: none`, wrong key types). Used by unit specs and test/fixtures/jwt.ts; holds
 * no key of its own.
 */
import {
  constants,
  createHmac,
  generateKeyPairSync,
  sign,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';

export interface SignJwtOptions {
  /** Any string, so tests can send `none`, `HS999` or the wrong algorithm for a key. */
  alg: string;
  kid?: string;
  /** Extra or overriding header members (`typ`, `crit`, ...). */
  header?: Record<string, unknown>;
}

export function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url');
}

/** Seconds since the epoch, the unit of `exp`, `nbf` and `iat`. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * A compact JWS. HS* signs with `key` as the HMAC secret (a string, Buffer or secret KeyObject,
 * or a public key's PEM text for the HMAC/RSA confusion attack); RS/PS/ES with a private key.
 */
export function signJwt(
  payload: Record<string, unknown>,
  key: KeyObject | string | Buffer | undefined,
  options: SignJwtOptions,
): string {
  const header = {
    alg: options.alg,
    typ: 'JWT',
    ...(options.kid === undefined ? {} : { kid: options.kid }),
    ...options.header,
  };
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  const family = options.alg.slice(0, 2);
  const hash = `sha${options.alg.slice(2)}`;
  if (options.alg === 'none' || key === undefined) {
    return `${input}.`;
  }
  let signature: Buffer;
  if (family === 'HS') {
    signature = createHmac(hash, key).update(input).digest();
  } else if (typeof key === 'string' || Buffer.isBuffer(key)) {
    throw new Error(`${options.alg} needs a private KeyObject`);
  } else if (family === 'PS') {
    signature = sign(hash, Buffer.from(input), {
      key,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
    });
  } else if (family === 'ES') {
    signature = sign(hash, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  } else {
    signature = sign(hash, Buffer.from(input), key);
  }
  return `${input}.${base64url(signature)}`;
}

export interface TestKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** SPKI PEM of the public key, as `JWT_PUBLIC_KEY` takes it. */
  publicPem: string;
  /** The public key as a JWK, for a JWKS document. */
  jwk(kid?: string, alg?: string): JsonWebKey;
}

/** A fresh key pair: RSA 2048 (RS*, PS*) or EC on P-256 (ES256) / P-384 (ES384). */
export function generateTestKeyPair(
  type: 'rsa' | 'ec-p256' | 'ec-p384',
  rsaBits = 2048,
): TestKeyPair {
  const { privateKey, publicKey } =
    type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: rsaBits })
      : generateKeyPairSync('ec', { namedCurve: type === 'ec-p256' ? 'P-256' : 'P-384' });
  return {
    privateKey,
    publicKey,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    jwk: (kid, alg) => ({
      ...publicKey.export({ format: 'jwk' }),
      use: 'sig',
      ...(kid === undefined ? {} : { kid }),
      ...(alg === undefined ? {} : { alg }),
    }),
  };
}
