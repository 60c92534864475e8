import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  algorithmsForPublicKey,
  defaultAlgorithmForPublicKey,
  isHmacAlgorithm,
  isJwtAlgorithm,
  publicKeyProblem,
} from './jws-algorithms';

describe('jws-algorithms', () => {
  let rsa: KeyObject;
  let pss: KeyObject;

  beforeAll(() => {
    // RSA key generation can take a while on a busy machine.
    rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).publicKey;
  }, 30_000);

  it('should map each public key type to the algorithms it can verify, never HS*', () => {
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const p521 = generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey;

    expect(algorithmsForPublicKey(rsa)).toEqual([
      'RS256',
      'RS384',
      'RS512',
      'PS256',
      'PS384',
      'PS512',
    ]);
    expect(algorithmsForPublicKey(pss)).toEqual(['PS256', 'PS384', 'PS512']);
    expect(algorithmsForPublicKey(p256)).toEqual(['ES256']);
    expect(algorithmsForPublicKey(p521)).toEqual(['ES512']);
    expect([rsa, pss, p256].map(defaultAlgorithmForPublicKey)).toEqual(['RS256', 'PS256', 'ES256']);
  });

  it('should refuse small RSA keys, other key types and private keys', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const secp256k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey;
    const ed25519 = generateKeyPairSync('ed25519').publicKey;

    expect(algorithmsForPublicKey(small.publicKey)).toEqual([]);
    expect(algorithmsForPublicKey(small.privateKey)).toEqual([]);
    expect(publicKeyProblem(small.publicKey)).toBe(
      'RSA key of 1024 bits; at least 2048 are required',
    );
    expect(publicKeyProblem(secp256k1)).toBe(
      'unsupported EC curve secp256k1 (expected P-256, P-384 or P-521)',
    );
    expect(publicKeyProblem(ed25519)).toBe('unsupported key type ed25519 (expected RSA or EC)');
  });

  it('should recognise algorithm names exactly', () => {
    expect(isJwtAlgorithm('HS256')).toBe(true);
    expect(isJwtAlgorithm('none')).toBe(false);
    expect(isJwtAlgorithm('hs256')).toBe(false);
    expect(isHmacAlgorithm('HS512')).toBe(true);
    expect(isHmacAlgorithm('RS256')).toBe(false);
  });
});
