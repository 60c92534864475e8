import { createHmac, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import {
  algorithmsForPublicKey,
  isHmacAlgorithm,
  JWS_ALGORITHMS,
  verifyKeyOptions,
} from '../../common/crypto/jws-algorithms';
import type { JwtAlgorithm } from '../../config/gateway-config.types';

/**
 * A key prepared at boot (or JWKS refresh) for one job: checking JWS signatures with the
 * algorithms it fits. Nothing about the key is worked out per request.
 */
export interface VerificationKey {
  /** JWK `kid`, when the key came from a JWKS and had one. */
  readonly kid?: string;
  /** Algorithms this key may verify; a token whose `alg` is not here is refused. */
  readonly algorithms: ReadonlySet<JwtAlgorithm>;
  /** @returns whether `signature` is valid for `data`; never throws. */
  verify(alg: JwtAlgorithm, data: Buffer, signature: Buffer): boolean;
}

/** An HMAC secret; only ever used for HS* (so a public key can never act as an HMAC secret). */
export function hmacVerificationKey(
  secret: KeyObject,
  algorithms: readonly JwtAlgorithm[],
): VerificationKey {
  return {
    algorithms: new Set(algorithms.filter(isHmacAlgorithm)),
    verify(alg, data, signature) {
      const expected = createHmac(JWS_ALGORITHMS[alg].hash, secret).update(data).digest();
      return expected.length === signature.length && timingSafeEqual(expected, signature);
    },
  };
}

/**
 * A public key (PEM or JWK) for the asymmetric algorithms of its type, optionally narrowed to the
 * JWK's own `alg`. `crypto.verify` options (PSS padding, JOSE `r||s` ECDSA encoding) are built
 * here once per algorithm.
 */
export function publicVerificationKey(
  key: KeyObject,
  options: { kid?: string; alg?: JwtAlgorithm } = {},
): VerificationKey {
  const algorithms = algorithmsForPublicKey(key).filter(
    (alg) => options.alg === undefined || alg === options.alg,
  );
  const verifyOptions = new Map(algorithms.map((alg) => [alg, verifyKeyOptions(key, alg)]));
  return {
    ...(options.kid === undefined ? {} : { kid: options.kid }),
    algorithms: new Set(algorithms),
    verify(alg, data, signature) {
      const keyOptions = verifyOptions.get(alg);
      const spec = JWS_ALGORITHMS[alg];
      if (keyOptions === undefined) {
        return false;
      }
      if (spec.signatureBytes !== undefined && signature.length !== spec.signatureBytes) {
        return false;
      }
      try {
        return verify(spec.hash, data, keyOptions, signature);
      } catch {
        // OpenSSL rejects some malformed signatures by throwing rather than returning false.
        return false;
      }
    },
  };
}
