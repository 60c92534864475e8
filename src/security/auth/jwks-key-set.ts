import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { request } from 'undici';
import { monotonicClock, type Clock } from '../../common/clock';
import { isJwtAlgorithm } from '../../common/crypto/jws-algorithms';
import type { JwtAlgorithm } from '../../config/gateway-config.types';
import {
  JWKS_MAX_BYTES,
  JWKS_MAX_KEYS,
  JWKS_REFRESH_INTERVAL_MS,
  JWKS_TIMEOUT_MS,
  JWKS_UNKNOWN_KID_COOLDOWN_MS,
} from './auth.constants';
import { publicVerificationKey, type VerificationKey } from './verification-key';

export interface JwksLogger {
  log(message: string): void;
  warn(message: string): void;
}

export interface JwksKeySetOptions {
  url: string;
  /** The pinned algorithms: a JWK whose own `alg` is not among them is ignored. */
  algorithms: readonly JwtAlgorithm[];
  /** @default JWKS_TIMEOUT_MS */
  timeoutMs?: number;
  /** @default JWKS_UNKNOWN_KID_COOLDOWN_MS */
  cooldownMs?: number;
  /** @default JWKS_REFRESH_INTERVAL_MS */
  refreshIntervalMs?: number;
  /** For the cooldown; monotonic so a wall-clock step cannot open or close it. */
  clock?: Clock;
  logger?: JwksLogger;
  /** Called after a refresh that changed the key set (e.g. to drop cached verifications). */
  onChange?: () => void;
}

/**
 * The issuer's public keys from a JWKS URL, cached by `kid`.
 *
 * - Fetched at startup (bounded by the timeout, so a dead endpoint delays boot by at most that
 *   much), then every `refreshIntervalMs`.
 * - A token with an unknown `kid` may trigger one extra fetch, at most once per `cooldownMs`;
 *   concurrent requests share that fetch. So a flood of made-up `kid`s costs the issuer one
 *   request per cooldown, and no request ever waits on more than one fetch.
 * - When a fetch fails (network, status, garbage, no usable key), the keys already held are kept:
 *   an identity provider outage does not log everyone out.
 * - Only `RSA` and `EC` signing keys are taken, built from their public members only.
 */
export class JwksKeySet {
  private byKid = new Map<string, VerificationKey>();
  /** Per algorithm, the one key that fits it, for tokens without `kid`; null when ambiguous. */
  private soleKeys = new Map<JwtAlgorithm, VerificationKey | null>();
  private count = 0;
  private fingerprint = '';
  private inFlight: Promise<boolean> | undefined;
  private lastFetchAt = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private readonly accepted: ReadonlySet<JwtAlgorithm>;
  private readonly timeoutMs: number;
  private readonly cooldownMs: number;
  private readonly refreshIntervalMs: number;
  private readonly clock: Clock;

  constructor(private readonly options: JwksKeySetOptions) {
    this.accepted = new Set(options.algorithms);
    this.timeoutMs = options.timeoutMs ?? JWKS_TIMEOUT_MS;
    this.cooldownMs = options.cooldownMs ?? JWKS_UNKNOWN_KID_COOLDOWN_MS;
    this.refreshIntervalMs = options.refreshIntervalMs ?? JWKS_REFRESH_INTERVAL_MS;
    this.clock = options.clock ?? monotonicClock;
  }

  /** Keys currently held. */
  get size(): number {
    return this.count;
  }

  get(kid: string): VerificationKey | undefined {
    return this.byKid.get(kid);
  }

  /** The only held key that verifies `alg`, for tokens without a `kid`. */
  soleKeyFor(alg: JwtAlgorithm): VerificationKey | undefined {
    return this.soleKeys.get(alg) ?? undefined;
  }

  /** First fetch (awaited, never throws) and the periodic refresh. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer ??= setInterval(() => void this.refresh(), this.refreshIntervalMs);
    // The refresh must never keep a stopping process alive.
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Fetches now, or joins the fetch in progress. @returns whether the fetch succeeded. */
  refresh(): Promise<boolean> {
    this.inFlight ??= this.fetchKeys().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /**
   * For a token whose `kid` is unknown: joins the fetch in progress, or starts one when the last
   * fetch is older than the cooldown. @returns undefined when cooling down (answer without waiting).
   */
  refreshForUnknownKid(): Promise<boolean> | undefined {
    if (this.inFlight !== undefined) {
      return this.inFlight;
    }
    if (this.clock() - this.lastFetchAt < this.cooldownMs) {
      return undefined;
    }
    return this.refresh();
  }

  private async fetchKeys(): Promise<boolean> {
    this.lastFetchAt = this.clock();
    try {
      this.install(parseJwks(await this.download(), this.accepted));
      return true;
    } catch (error) {
      this.options.logger?.warn(
        `JWKS ${this.options.url}: refresh failed (${error instanceof Error ? error.message : String(error)}); keeping ${this.count} cached key(s)`,
      );
      return false;
    }
  }

  private async download(): Promise<unknown> {
    const { statusCode, body } = await request(this.options.url, {
      method: 'GET',
      headers: { accept: 'application/jwk-set+json, application/json' },
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (statusCode !== 200) {
      await body.dump();
      throw new Error(`HTTP ${statusCode}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > JWKS_MAX_BYTES) {
        body.destroy();
        throw new Error(`document larger than ${JWKS_MAX_BYTES} bytes`);
      }
      chunks.push(chunk);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    } catch {
      throw new Error('not JSON');
    }
  }

  private install({ keys, fingerprint, skipped }: ParsedJwks): void {
    if (fingerprint === this.fingerprint) {
      return;
    }
    const byKid = new Map<string, VerificationKey>();
    const soleKeys = new Map<JwtAlgorithm, VerificationKey | null>();
    for (const key of keys) {
      if (key.kid !== undefined) {
        byKid.set(key.kid, key);
      }
      for (const alg of key.algorithms) {
        soleKeys.set(alg, soleKeys.has(alg) ? null : key);
      }
    }
    // Swapped in whole: a request sees the old set or the new one, never half of each.
    this.byKid = byKid;
    this.soleKeys = soleKeys;
    this.count = keys.length;
    this.fingerprint = fingerprint;
    this.options.logger?.log(
      `JWKS ${this.options.url}: ${keys.length} key(s) loaded${skipped > 0 ? `, ${skipped} skipped` : ''}`,
    );
    this.options.onChange?.();
  }
}

interface ParsedJwks {
  keys: VerificationKey[];
  /** Identity of the usable key material, to notice real changes. */
  fingerprint: string;
  skipped: number;
}

/** @throws when the document is not a JWKS or holds no usable key. */
function parseJwks(document: unknown, accepted: ReadonlySet<JwtAlgorithm>): ParsedJwks {
  if (!isRecord(document) || !Array.isArray(document.keys)) {
    throw new Error('not a JWK Set (no "keys" array)');
  }
  const keys: VerificationKey[] = [];
  const seen: string[] = [];
  let skipped = 0;
  for (const jwk of document.keys.slice(0, JWKS_MAX_KEYS) as unknown[]) {
    const key = isRecord(jwk) ? toVerificationKey(jwk, accepted) : undefined;
    if (key === undefined || (key.kid !== undefined && keys.some((k) => k.kid === key.kid))) {
      skipped++;
      continue;
    }
    keys.push(key);
    const record = jwk as Record<string, unknown>;
    seen.push(JSON.stringify([record.kid, record.alg, publicMembers(record)]));
  }
  skipped += Math.max(0, document.keys.length - JWKS_MAX_KEYS);
  if (keys.length === 0) {
    throw new Error(`no usable signing key (${skipped} skipped)`);
  }
  return { keys, fingerprint: seen.join('\n'), skipped };
}

function toVerificationKey(
  jwk: Record<string, unknown>,
  accepted: ReadonlySet<JwtAlgorithm>,
): VerificationKey | undefined {
  if ((jwk.kty !== 'RSA' && jwk.kty !== 'EC') || (jwk.use !== undefined && jwk.use !== 'sig')) {
    return undefined;
  }
  if (Array.isArray(jwk.key_ops) && !jwk.key_ops.includes('verify')) {
    return undefined;
  }
  if (jwk.kid !== undefined && typeof jwk.kid !== 'string') {
    return undefined;
  }
  let alg: JwtAlgorithm | undefined;
  if (jwk.alg !== undefined) {
    if (typeof jwk.alg !== 'string' || !isJwtAlgorithm(jwk.alg) || !accepted.has(jwk.alg)) {
      return undefined;
    }
    alg = jwk.alg;
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: publicMembers(jwk) as JsonWebKey, format: 'jwk' });
  } catch {
    return undefined;
  }
  const verificationKey = publicVerificationKey(key, {
    ...(jwk.kid === undefined ? {} : { kid: jwk.kid }),
    ...(alg === undefined ? {} : { alg }),
  });
  return verificationKey.algorithms.size > 0 ? verificationKey : undefined;
}

/** Only the public members, so a JWKS that leaks a private key still yields a public key. */
function publicMembers(jwk: Record<string, unknown>): Record<string, unknown> {
  return jwk.kty === 'RSA'
    ? { kty: jwk.kty, n: jwk.n, e: jwk.e }
    : { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
