/**
 * Parsers of the `auth` settings (declared in ./settings/auth.ts). The key files named by
 * settings are read here too, so a missing file, a bad PEM or a bad API-key line stops the start
 * with one line each, like any other config problem.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isJwtAlgorithm, publicKeyProblem } from '../common/crypto/jws-algorithms';
import { parseApiKeysFile } from './api-keys-file';
import { splitList, ValueErrors } from './env-parsers';
import {
  JWT_ALGORITHMS,
  type AuthConfig,
  type ForwardedClaim,
  type JwtAlgorithm,
} from './gateway-config.types';
import type { Report } from './loader/report';
import type { ParseContext } from './settings/setting';

/** A larger leeway would make `exp` meaningless for short-lived access tokens. */
export const MAX_CLOCK_TOLERANCE_MS = 10 * 60_000;

/** RFC 9110 token: the characters a header name may contain. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Headers a claim may not be written to: the gateway sets them, they frame the message, or they
 * carry client credentials upstreams may trust.
 */
const RESERVED_HEADERS = new Set([
  'authorization',
  'connection',
  'content-encoding',
  'content-length',
  'content-type',
  'cookie',
  'expect',
  'forwarded',
  'host',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'via',
  'x-api-key',
  'x-real-ip',
  'x-request-id',
]);

export function parsePublicKey(text: string): { pem: string; key: KeyObject } {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw new Error(
      'is a private key; give the gateway only the public key (`openssl pkey -in key.pem -pubout`)',
    );
  }
  if (!text.includes('-----BEGIN ')) {
    throw new Error('expected a PEM public key ("-----BEGIN PUBLIC KEY-----")');
  }
  let key: KeyObject;
  try {
    key = createPublicKey(text);
  } catch {
    throw new Error('invalid PEM public key');
  }
  const problem = publicKeyProblem(key);
  if (problem !== undefined) {
    throw new Error(problem);
  }
  // Normalised to SPKI, so PKCS#1 keys and certificates end up in one form.
  return { pem: key.export({ type: 'spki', format: 'pem' }).toString(), key };
}

export function parseJwksUrl(raw: string, report: Report): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`invalid URL ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`unsupported scheme "${url.protocol}" (expected https:)`);
  }
  if (url.username !== '' || url.password !== '' || url.hash !== '') {
    throw new Error('must not contain credentials or a fragment');
  }
  if (url.protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) {
    report.warn(
      `JWKS_URL: keys fetched over plain http can be replaced in transit; use https (${url.host})`,
    );
  }
  return url.href;
}

export function parseAlgorithms(raw: string): JwtAlgorithm[] {
  const algorithms: JwtAlgorithm[] = [];
  for (const item of splitList(raw)) {
    const name = item.toUpperCase();
    if (name === 'NONE') {
      throw new Error('"none" is never accepted: unsigned tokens would authenticate anyone');
    }
    if (!isJwtAlgorithm(name)) {
      throw new Error(
        `unknown algorithm ${JSON.stringify(item)} (expected ${JWT_ALGORITHMS.join('|')})`,
      );
    }
    if (!algorithms.includes(name)) {
      algorithms.push(name);
    }
  }
  return algorithms;
}

/** `sub:X-User-Id,email:X-User-Email`; the last `:` separates, so `https://ns/roles:X-Roles` works. */
export function parseForwardClaims(raw: string): ForwardedClaim[] {
  if (raw.trim().toLowerCase() === 'none') {
    return [];
  }
  const claims: ForwardedClaim[] = [];
  for (const entry of raw.split(',').map((item) => item.trim())) {
    if (entry === '') {
      continue;
    }
    const colon = entry.lastIndexOf(':');
    const claim = colon < 0 ? '' : entry.slice(0, colon).trim();
    const headerName = colon < 0 ? '' : entry.slice(colon + 1).trim();
    if (claim === '' || headerName === '') {
      throw new Error(
        `invalid entry ${JSON.stringify(entry)} (expected claim:Header, e.g. sub:X-User-Id, or none)`,
      );
    }
    const header = headerName.toLowerCase();
    if (!HEADER_NAME.test(headerName)) {
      throw new Error(`invalid header name ${JSON.stringify(headerName)}`);
    }
    if (RESERVED_HEADERS.has(header) || header.startsWith('x-forwarded-')) {
      throw new Error(`${headerName} cannot carry a claim: the gateway or the protocol owns it`);
    }
    if (claims.some((existing) => existing.header === header)) {
      throw new Error(`${headerName} is listed twice`);
    }
    claims.push({ claim, header });
  }
  return claims;
}

/**
 * `PUBLIC_PATHS`: exact paths (`/login`) and explicit prefixes (`/public/*`, which covers
 * `/public/` and everything below it, not `/public` itself nor `/publicity`). Paths are compared
 * with the canonical request path, so entries must be canonical too.
 */
export function parsePublicPaths(raw: string, report: Report): string[] {
  const paths: string[] = [];
  for (const entry of splitList(raw)) {
    const base = entry.endsWith('/*') ? entry.slice(0, -1) : entry;
    if (!base.startsWith('/')) {
      throw new Error(`${JSON.stringify(entry)} must start with "/"`);
    }
    if (base.includes('*')) {
      throw new Error(
        `${JSON.stringify(entry)}: "*" is only allowed as a final "/*" (e.g. "/public/*")`,
      );
    }
    if (
      // eslint-disable-next-line no-control-regex -- control characters are what we refuse
      /[?#\\\x00-\x20\x7f]|\/\/|%(2e|2f|5c)/i.test(base) ||
      /\/\.\.?(\/|$)/.test(base)
    ) {
      throw new Error(
        `${JSON.stringify(entry)} is not a canonical path (no "//", "." or ".." segments, query, or encoded dot/slash)`,
      );
    }
    if (!paths.includes(entry)) {
      paths.push(entry);
    }
  }
  if (paths.includes('/*')) {
    report.warn('PUBLIC_PATHS: "/*" makes every path public, so require_auth has no effect');
  }
  return paths;
}

/**
 * `API_KEYS_FILE`: reads and parses the file. Each bad line is its own problem; plain-text keys
 * and an empty file are warnings.
 */
export function readApiKeysFile(
  given: string,
  { cwd, report, label }: ParseContext,
): { path: string; keys: AuthConfig['apiKeys'] } {
  const text = readText(cwd, given);
  const parsed = parseApiKeysFile(text);
  if (parsed.plainKeys > 0) {
    report.warn(
      `${label}: ${parsed.plainKeys} key${parsed.plainKeys === 1 ? ' is' : 's are'} stored in plain text; store SHA-256 hashes instead (\`printf %s "$KEY" | sha256sum\`)`,
    );
  }
  if (parsed.keys.length === 0 && parsed.errors.length === 0) {
    report.warn(`${label}: ${given} holds no key`);
  }
  if (parsed.errors.length > 0) {
    throw new ValueErrors(parsed.errors.map((error) => `${given}, ${error}`));
  }
  return { path: resolve(cwd, given), keys: parsed.keys };
}

export function readText(cwd: string, given: string): string {
  try {
    return readFileSync(resolve(cwd, given), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(
      `cannot read ${JSON.stringify(given)}: ${code === 'ENOENT' ? 'no such file' : (code ?? String(error))}`,
    );
  }
}
