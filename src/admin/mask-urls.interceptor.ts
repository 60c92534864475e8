import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { map, type Observable } from 'rxjs';
import { maskUrlsDeep } from '../common/http/url-display';

/**
 * Every admin answer with the userinfo and query values of its URLs masked (`***`): upstream
 * URLs carry credentials (`?key=…`, `user:pass@`), and an admin answer ends up in terminals,
 * tickets and CI logs. Applied to whole answers, so no field added later can leak one. A URL
 * sent back in its masked form is resolved to the configured one (see masked-urls.ts).
 */
@Injectable()
export class MaskUrlsInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(map((answer: unknown) => maskUrlsDeep(answer)));
  }
}
