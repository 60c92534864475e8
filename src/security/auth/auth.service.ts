import { maybeThen } from '../../common/async/maybe-then';
import { createPublicKey, createSecretKey } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { wallClock } from '../../common/clock';
import { isHmacAlgorithm } from '../../common/crypto/jws-algorithms';
import { InjectGatewayConfig } from '../../config/gateway.config';
import type { ForwardedClaim, GatewayConfig } from '../../config/gateway-config.types';
import { apiKeyPrincipal, ApiKeyStore, digestApiKey, type ApiKeyRecord } from './api-key-store';
import {
  API_KEY_HEADER,
  API_KEY_ID_HEADER,
  API_KEY_NAME_HEADER,
  INVALID_TOKEN_CHALLENGE,
  VERIFIED_TOKEN_CACHE_SIZE,
} from './auth.constants';
import type { AuthOutcome, Principal } from './auth.types';
import { claimHeaders } from './claim-headers';
import { JwksKeySet } from './jwks-key-set';
import { JwtVerifier, type JwtVerification } from './jwt-verifier';
import { PublicPathMatcher } from './public-path-matcher';
import { DEFAULT_ROUTE_AUTH, type RouteAuth } from './route-auth';
import { hmacVerificationKey, publicVerificationKey } from './verification-key';
import { VerifiedTokenCache } from './verified-token-cache';

type AuthSuccess = Extract<AuthOutcome, { ok: true }>;
type AuthFailure = Extract<AuthOutcome, { ok: false }>;

/** The refusal of a request without a credential the route accepts, one per challenge. */
const noCredentials = new Map<string, AuthFailure>();

function noCredentialsFor(challenge: string): AuthFailure {
  let outcome = noCredentials.get(challenge);
  if (outcome === undefined) {
    outcome = Object.freeze({
      ok: false,
      status: 401,
      wwwAuthenticate: challenge,
      reason: 'no credentials',
    });
    noCredentials.set(challenge, outcome);
  }
  return outcome;
}

/** A name written into a request header must be one: printable ASCII, no line breaks. */
const HEADER_SAFE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/**
 * Authentication for proxied requests: `Authorization: Bearer <JWT>` and `X-API-Key`.
 *
 * Everything is prepared at boot: the HMAC secret and PEM key as KeyObjects, API-key hashes in a
 * Map, public paths as a Set plus a prefix list, JWKS keys by `kid`. Per request, `authenticate`
 * is synchronous (no promise allocated) unless a JWKS refresh or an asynchronous key store is
 * involved.
 *
 * No response says which check failed: a failure carries only the RFC 6750 challenge, and the
 * `reason` is for the log.
 *
 * @publicApi
 */
@Injectable()
export class AuthService implements OnModuleInit, OnModuleDestroy {
  /**
   * Lower-case names of the headers a principal's identity is written to upstream: forwarded JWT
   * claims, and an API key's id and name. The proxy deletes them from every client request,
   * authenticated or not, so an upstream can trust them.
   */
  readonly identityHeaders: readonly string[];

  private readonly logger = new Logger(AuthService.name);
  private readonly publicPaths: PublicPathMatcher;
  private readonly forwardClaims: readonly ForwardedClaim[];
  private readonly jwt: JwtVerifier | undefined;
  private readonly jwks: JwksKeySet | undefined;
  private readonly verified = new VerifiedTokenCache<AuthSuccess>(
    VERIFIED_TOKEN_CACHE_SIZE,
    wallClock,
  );
  /** Weak: a revoked or replaced record takes its outcome with it. */
  private readonly apiKeyOutcomes = new WeakMap<ApiKeyRecord, AuthSuccess>();

  constructor(
    @InjectGatewayConfig() config: GatewayConfig,
    private readonly apiKeys: ApiKeyStore,
  ) {
    const auth = config.auth;
    this.publicPaths = new PublicPathMatcher(auth.publicPaths);
    this.forwardClaims = auth.jwtForwardClaims;
    this.identityHeaders = Object.freeze([
      ...new Set([
        ...auth.jwtForwardClaims.map((c) => c.header),
        API_KEY_ID_HEADER,
        API_KEY_NAME_HEADER,
      ]),
    ]);

    const algorithms = auth.jwtAlgorithms;
    const hmacKey =
      auth.jwtSecret !== undefined && algorithms.some(isHmacAlgorithm)
        ? hmacVerificationKey(createSecretKey(Buffer.from(auth.jwtSecret, 'utf8')), algorithms)
        : undefined;
    const publicKey =
      auth.jwtPublicKey === undefined
        ? undefined
        : publicVerificationKey(createPublicKey(auth.jwtPublicKey));
    this.jwks =
      auth.jwksUrl === undefined
        ? undefined
        : new JwksKeySet({
            url: auth.jwksUrl,
            algorithms,
            logger: this.logger,
            // A key that left the set must stop authenticating the tokens it signed.
            onChange: () => this.verified.clear(),
          });
    this.jwt =
      hmacKey === undefined && publicKey === undefined && this.jwks === undefined
        ? undefined
        : new JwtVerifier({
            algorithms,
            ...(hmacKey === undefined ? {} : { hmacKey }),
            ...(publicKey === undefined ? {} : { publicKey }),
            ...(this.jwks === undefined ? {} : { jwks: this.jwks }),
            issuers: auth.jwtIssuers,
            audiences: auth.jwtAudiences,
            clockToleranceMs: auth.jwtClockToleranceMs,
          });
  }

  /** Fetches the JWKS before the gateway listens; a dead endpoint delays boot by the timeout only. */
  async onModuleInit(): Promise<void> {
    await this.jwks?.start();
  }

  onModuleDestroy(): void {
    this.jwks?.stop();
  }

  /**
   * Whether `path` is in `PUBLIC_PATHS`: an exact entry, or below an explicit `/prefix/*` entry.
   * Pass the canonical path (the one that is routed), never the raw request target.
   */
  isPublicPath(path: string): boolean {
    return this.publicPaths.matches(path);
  }

  /**
   * Checks the request's credentials, of the kinds the route accepts (`auth:`); the others are
   * not looked at, so an `api_key` route refuses a valid JWT like any missing credential.
   *
   * When both a bearer token and an API key are sent and accepted, either valid one
   * authenticates; a valid token wins (it names the user, where a key usually names only the
   * client application), so the key is not even looked at then.
   *
   * @returns synchronously unless a JWKS refresh (unknown `kid`) or an asynchronous key store is
   *   involved. Never 403 today: no route asks for more than a valid credential yet.
   */
  authenticate(
    headers: IncomingHttpHeaders,
    route: RouteAuth = DEFAULT_ROUTE_AUTH,
  ): AuthOutcome | Promise<AuthOutcome> {
    const token = route.jwt ? bearerToken(headers.authorization) : undefined;
    const apiKey = route.apiKey ? headers[API_KEY_HEADER] : undefined;
    if (token === undefined) {
      return apiKey === undefined
        ? noCredentialsFor(route.challenge)
        : this.authenticateApiKey(apiKey, undefined, route.challenge);
    }
    return maybeThen(this.authenticateJwt(token), (outcome) =>
      outcome.ok || apiKey === undefined
        ? outcome
        : this.authenticateApiKey(apiKey, outcome.reason, route.challenge),
    );
  }

  private authenticateJwt(token: string): AuthOutcome | Promise<AuthOutcome> {
    const cached = this.verified.get(token);
    if (cached !== undefined) {
      return cached;
    }
    if (this.jwt === undefined) {
      return failure(INVALID_TOKEN_CHALLENGE, 'jwt: no JWT key configured');
    }
    return maybeThen(this.jwt.verify(token), (result) => this.jwtOutcome(token, result));
  }

  private jwtOutcome(token: string, result: JwtVerification): AuthOutcome {
    if (!result.ok) {
      return failure(INVALID_TOKEN_CHALLENGE, `jwt: ${result.reason}`);
    }
    const { claims } = result;
    const id = subjectOf(claims.sub);
    const principal: Principal = {
      kind: 'jwt',
      id,
      key: `jwt:${id}`,
      claims: Object.freeze(claims),
    };
    const outcome: AuthSuccess = Object.freeze({
      ok: true,
      principal: Object.freeze(principal),
      upstreamHeaders: Object.freeze(claimHeaders(claims, this.forwardClaims)),
    });
    this.verified.set(token, outcome, result.expiresAtMs);
    return outcome;
  }

  /**
   * @param jwtFailure why the bearer token (if one was sent) failed.
   * @param routeChallenge the route's challenge when no token was sent.
   */
  private authenticateApiKey(
    value: string | string[],
    jwtFailure: string | undefined,
    routeChallenge: string,
  ): AuthOutcome | Promise<AuthOutcome> {
    // A rejected token keeps its `invalid_token` challenge even when the key is bad too.
    const challenge = jwtFailure === undefined ? routeChallenge : INVALID_TOKEN_CHALLENGE;
    const prefix = jwtFailure === undefined ? '' : `${jwtFailure}; `;
    const digest = typeof value === 'string' ? digestApiKey(value) : undefined;
    if (digest === undefined) {
      return failure(challenge, `${prefix}api-key: malformed`);
    }
    return maybeThen(this.apiKeys.lookup(digest), (record) => {
      if (record === undefined) {
        return failure(challenge, `${prefix}api-key: unknown key`);
      }
      this.apiKeys.markUsed(record, Date.now());
      // The proxy path never goes through passport: a passport round-trip (strategy lookup,
      // callbacks, req.user) per request buys nothing here.
      return this.apiKeySuccess(record);
    });
  }

  /**
   * One frozen outcome per key record (with its identity headers), built at its first use: records are immutable apart from
   * `lastUsedAt` and are replaced (not edited) when a key changes, so the outcome stays right
   * and a request allocates nothing to say who it is.
   */
  private apiKeySuccess(record: ApiKeyRecord): AuthSuccess {
    let outcome = this.apiKeyOutcomes.get(record);
    if (outcome === undefined) {
      outcome = Object.freeze({
        ok: true,
        principal: Object.freeze(apiKeyPrincipal(record)),
        upstreamHeaders: Object.freeze(apiKeyIdentityHeaders(record)),
      });
      this.apiKeyOutcomes.set(record, outcome);
    }
    return outcome;
  }
}

/**
 * The token of an `Authorization: Bearer` header; `''` for a bearer header without one;
 * undefined for no header or another scheme (`Basic` is not ours to judge). The scheme is
 * case-insensitive (RFC 9110 §11.1), unlike the Go gateway's check.
 */
function bearerToken(value: string | undefined): string | undefined {
  if (value === undefined || !/^bearer(?:\s|$)/i.test(value)) {
    return undefined;
  }
  return value.slice(6).trim();
}

/**
 * The token's subject as a string: a string as it is, a number by its JSON form (`42` and `"42"`
 * are one subject, as issuers that use numeric ids mean them), anything else `''` (no subject).
 */
function subjectOf(sub: unknown): string {
  if (typeof sub === 'string') {
    return sub;
  }
  return typeof sub === 'number' && Number.isFinite(sub) ? String(sub) : '';
}

/**
 * What an upstream learns of the API key that authenticated a request, as a JWT's forwarded
 * claims tell it who the user is: the key's id, and its name when it has one that can be a header
 * value (names stored in Redis by hand are not checked when written).
 */
function apiKeyIdentityHeaders(record: ApiKeyRecord): Record<string, string> {
  return {
    [API_KEY_ID_HEADER]: record.id,
    ...(record.name !== undefined && HEADER_SAFE.test(record.name)
      ? { [API_KEY_NAME_HEADER]: record.name }
      : {}),
  };
}

function failure(wwwAuthenticate: string, reason: string): AuthFailure {
  return { ok: false, status: 401, wwwAuthenticate, reason };
}
