import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { HeaderAPIKeyStrategy } from 'passport-headerapikey';
import { apiKeyPrincipal, ApiKeyStore, digestApiKey } from './api-key-store';
import { API_KEY_HEADER } from './auth.constants';
import type { Principal } from './auth.types';

/** Name of the strategy, for `AuthGuard(API_KEY_STRATEGY)`. */
export const API_KEY_STRATEGY = 'api-key';

/**
 * `X-API-Key` for gateway-owned endpoints (through {@link ApiKeyAuthGuard}; the admin API's
 * guard uses it for admin-scoped keys), checked against the same {@link ApiKeyStore} as the proxy
 * path. The proxy path calls the store through `AuthService` instead: a passport round-trip per
 * proxied request is cost for nothing, while an admin call can afford it.
 */
@Injectable()
export class ApiKeyStrategy extends PassportStrategy(HeaderAPIKeyStrategy, API_KEY_STRATEGY) {
  constructor(private readonly store: ApiKeyStore) {
    // passReqToCallback false: the mixin's callback must receive (key, done), done last.
    super({ header: API_KEY_HEADER, prefix: '' }, false);
  }

  /** @returns the principal for `req.user`, or false (→ 401) for an unknown key. */
  async validate(apiKey: string): Promise<Principal | false> {
    const digest = digestApiKey(apiKey);
    const record = digest === undefined ? undefined : await this.store.lookup(digest);
    if (record === undefined) {
      return false;
    }
    this.store.markUsed(record, Date.now());
    return apiKeyPrincipal(record);
  }
}
