/**
 * Parser of `API_KEYS_FILE`: one key per line, so keys can be managed with ordinary tools and
 * never appear in the environment or the config file.
 *
 * ```
 * # <sha256-hex-or-key> [name] [rate/burst]
 * 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 billing 50/100
 * Zm9vYmFyYmF6cXV4cXV1eHF1dXpxdXV6 mobile-app
 * ```
 *
 * - The first field is the SHA-256 of the key as 64 hex digits (preferred: the file then holds no
 *   secret), or the key itself (at least 16 printable ASCII characters), hashed while loading.
 *   A key that is itself 64 hex digits is read as a hash: store its SHA-256 instead.
 * - `name` (letters, digits, `._:@-`, at most 64) labels the key in logs and the admin API.
 * - `rate/burst` (requests per second / bucket capacity) overrides the route's rate limit.
 * - `scopes=admin` (last field) lets the key call the admin API as well as proxied routes.
 * - Blank lines and lines starting with `#` are ignored, as is `# …` after whitespace.
 *
 * Messages never contain key material.
 */
import { createHash } from 'node:crypto';
import type { ApiKeyConfig } from './gateway-config.types';

export interface ParsedApiKeysFile {
  keys: ApiKeyConfig[];
  /** One message per bad line, `line N: …`. */
  errors: string[];
  /** How many lines held a plain key rather than a hash. */
  plainKeys: number;
}

/** Shortest plain key accepted; anything shorter can be guessed. */
export const MIN_PLAIN_KEY_LENGTH = 16;

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;
const NAME = /^[A-Za-z0-9._:@-]{1,64}$/;
const RATE = /^([0-9]+)\/([0-9]+)$/;
/** Visible ASCII: what a client can send in an `X-API-Key` header without encoding. */
const HEADER_SAFE = /^[\x21-\x7e]+$/;
const FORMAT = 'expected `<sha256-hex-or-key> [name] [rate/burst] [scopes=admin]`';
const SCOPES = /^scopes=(.*)$/;
/** Scopes a key may carry; `admin` opens the admin API to it. */
export const API_KEY_SCOPES = ['admin'] as const;

/** Lower-case hex SHA-256 of a key, as the file stores it and the key store looks it up. */
export function sha256Hex(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function parseApiKeysFile(text: string): ParsedApiKeysFile {
  const keys: ApiKeyConfig[] = [];
  const errors: string[] = [];
  const lineOfHash = new Map<string, number>();
  const lineOfName = new Map<string, number>();
  let plainKeys = 0;

  text.split(/\r?\n/).forEach((rawLine, index) => {
    const lineNumber = index + 1;
    const line = rawLine.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') {
      return;
    }
    const error = (message: string) => errors.push(`line ${lineNumber}: ${message}`);
    const [first, ...rest] = line.split(/\s+/);
    const scopes = SCOPES.exec(rest[rest.length - 1] ?? '');
    let admin = false;
    if (scopes !== null) {
      rest.pop();
      const unknown = scopes[1]
        .split(',')
        .filter((scope) => !(API_KEY_SCOPES as readonly string[]).includes(scope));
      if (unknown.length > 0 || scopes[1] === '') {
        error(`unknown scope (known: ${API_KEY_SCOPES.join(', ')})`);
        return;
      }
      admin = true;
    }
    if (rest.length > 2) {
      error(`${FORMAT}, got ${rest.length + 1} fields`);
      return;
    }

    let hash: string;
    if (SHA256_HEX.test(first)) {
      hash = first.toLowerCase();
    } else if (!HEADER_SAFE.test(first)) {
      error('the key contains characters that cannot be sent in an X-API-Key header');
      return;
    } else if (first.length < MIN_PLAIN_KEY_LENGTH) {
      error(
        `plain key shorter than ${MIN_PLAIN_KEY_LENGTH} characters; use a random key (e.g. \`openssl rand -base64 32\`)`,
      );
      return;
    } else {
      hash = sha256Hex(first);
      plainKeys++;
    }

    // `key rate/burst` or `key name [rate/burst]`. Fields are not echoed in messages: on a line
    // written in the wrong order, a field may be the key.
    const [name, rateText] =
      rest.length === 2 ? rest : RATE.test(rest[0] ?? '') ? [undefined, rest[0]] : [rest[0]];
    if (name !== undefined && !NAME.test(name)) {
      error(
        `field 2 is not a name (letters, digits, ._:@-; at most 64)${rest.length === 1 ? ' or a rate limit (rate/burst, e.g. 10/20)' : ''}`,
      );
      return;
    }
    let rateLimit: ApiKeyConfig['rateLimit'];
    if (rateText !== undefined) {
      const rate = RATE.exec(rateText);
      if (rate === null) {
        error(`field ${rest.length + 1} is not a rate limit (rate/burst, e.g. 10/20)`);
        return;
      }
      const [perSecond, burst] = [Number(rate[1]), Number(rate[2])];
      if (perSecond < 1 || burst < 1) {
        error(`rate limit must be at least 1/1, got ${JSON.stringify(rateText)}`);
        return;
      }
      rateLimit = { rate: perSecond, burst };
    }

    const sameKey = lineOfHash.get(hash);
    if (sameKey !== undefined) {
      error(`same key as line ${sameKey}`);
      return;
    }
    if (name !== undefined) {
      const sameName = lineOfName.get(name);
      if (sameName !== undefined) {
        error(`name ${JSON.stringify(name)} is already used on line ${sameName}`);
        return;
      }
      lineOfName.set(name, lineNumber);
    }
    lineOfHash.set(hash, lineNumber);
    keys.push({
      hash,
      ...(name === undefined ? {} : { name }),
      ...(rateLimit === undefined ? {} : { rateLimit }),
      ...(admin ? { admin } : {}),
    });
  });

  return { keys, errors, plainKeys };
}
