import { Injectable, UnauthorizedException } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { API_KEY_STRATEGY } from './api-key.strategy';
import type { Principal } from './auth.types';

/**
 * Requires a valid `X-API-Key` on a gateway-owned endpoint (`@UseGuards(ApiKeyAuthGuard)`); the
 * {@link Principal} is then `req.user`. Needs `AuthModule` imported (it registers the strategy).
 */
@Injectable()
export class ApiKeyAuthGuard extends AuthGuard(API_KEY_STRATEGY) {
  /** One plain 401 for every failure: no hint whether the key was missing, malformed or unknown. */
  override handleRequest<TUser = Principal>(err: unknown, user: unknown): TUser {
    if (err !== null && err !== undefined) {
      throw err instanceof UnauthorizedException ? err : new UnauthorizedException();
    }
    if (!user) {
      throw new UnauthorizedException();
    }
    return user as TUser;
  }
}
