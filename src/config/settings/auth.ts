import { z } from 'zod';
import {
  MAX_CLOCK_TOLERANCE_MS,
  parseAlgorithms,
  parseForwardClaims,
  parseJwksUrl,
  parsePublicKey,
  parsePublicPaths,
  readApiKeysFile,
  readText,
} from '../auth-parsers';
import { area, duration, list, setting, text } from './setting';

export const AUTH = area({
  section: 'auth',
  title: 'Authentication',
  settings: {
    jwtSecret: text({
      env: 'JWT_SECRET',
      key: 'jwt_secret',
      description:
        'HMAC key (at least 32 bytes) for HS256 tokens. Secret: prefer the JWT_SECRET environment variable.',
      trim: false,
    }),
    jwtPublicKey: setting({
      env: 'JWT_PUBLIC_KEY',
      key: 'jwt_public_key',
      description: 'PEM public key (RSA >= 2048 bits or EC P-256/384/521) for RS/PS/ES tokens.',
      type: 'PEM',
      schema: z.string(),
      // Environments often carry PEMs on one line with literal `\n`.
      parse: (raw) => parsePublicKey(raw.includes('\n') ? raw : raw.replace(/\\n/g, '\n')),
      default: undefined,
    }),
    jwtPublicKeyFile: setting({
      env: 'JWT_PUBLIC_KEY_FILE',
      key: 'jwt_public_key_file',
      description:
        'Path of a PEM public key file, relative to the working directory; instead of jwt_public_key.',
      type: 'path',
      schema: z.string(),
      parse: (raw, { cwd }) => parsePublicKey(readText(cwd, raw)),
      default: undefined,
    }),
    jwksUrl: setting({
      env: 'JWKS_URL',
      key: 'jwks_url',
      description:
        "URL of the issuer's JSON Web Key Set; keys are cached, refreshed every 10 minutes and on an unknown `kid`.",
      type: 'URL',
      schema: z.string(),
      parse: (raw, { report }): string | undefined => parseJwksUrl(raw, report),
      default: undefined,
    }),
    jwtAlgorithms: setting({
      env: 'JWT_ALGORITHMS',
      key: 'jwt_algorithms',
      description:
        'The only JWS algorithms accepted (HS256|HS384|HS512|RS256|RS384|RS512|PS256|PS384|PS512|ES256|ES384|ES512; never none). Default: HS256 with a secret, the algorithm of the public key, RS256 and ES256 with a JWKS.',
      type: 'list',
      schema: z.array(z.string()),
      parse: (raw): ReturnType<typeof parseAlgorithms> | undefined => parseAlgorithms(raw),
      default: undefined,
      defaultNote: 'from the keys',
    }),
    jwtIssuers: list({
      env: 'JWT_ISSUER',
      key: 'jwt_issuer',
      description: 'Accepted `iss` values; not checked when empty.',
      default: [],
    }),
    jwtAudiences: list({
      env: 'JWT_AUDIENCE',
      key: 'jwt_audience',
      description: 'Accepted `aud` values (the token must name one); not checked when empty.',
      default: [],
    }),
    jwtClockToleranceMs: duration({
      env: 'JWT_CLOCK_TOLERANCE',
      key: 'jwt_clock_tolerance',
      description: 'Clock leeway for `exp` and `nbf`.',
      default: '30s',
      allowZero: true,
      maxMs: MAX_CLOCK_TOLERANCE_MS,
    }),
    jwtForwardClaims: list({
      env: 'JWT_FORWARD_CLAIMS',
      key: 'jwt_forward_claims',
      description:
        'Claims sent upstream as headers after verification, as `claim:Header`; client copies of those headers are always removed; `none` forwards nothing.',
      type: 'list of claim:Header',
      parse: parseForwardClaims,
      default: ['sub:X-User-Id'],
    }),
    apiKeysFile: setting({
      env: 'API_KEYS_FILE',
      key: 'api_keys_file',
      description:
        'File of API keys, one per line: `<sha256-hex-or-key> [name] [rate/burst]`, `#` comments. Relative to the working directory.',
      type: 'path',
      schema: z.string(),
      parse: (raw, context): ReturnType<typeof readApiKeysFile> | undefined =>
        readApiKeysFile(raw, context),
      default: undefined,
    }),
    publicPaths: list({
      env: 'PUBLIC_PATHS',
      key: 'public_paths',
      description:
        'Paths that never need authentication: exact (`/login`) or explicit prefixes (`/public/*`).',
      parse: (raw, { report }) => parsePublicPaths(raw, report),
      default: [],
    }),
  },
});
