import {
  applyDecorators,
  Controller,
  UseFilters,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { ApiBearerAuth, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ADMIN_API_KEY_SCHEME, ADMIN_BEARER_SCHEME } from './admin.constants';
import { AdminAuthGuard } from './admin-auth.guard';
import { AdminExceptionFilter } from './admin-exception.filter';
import { AdminJsonBodyInterceptor } from './admin-json-body.interceptor';
import { errorSchema, openApi } from './dto/openapi';
import { MaskUrlsInterceptor } from './mask-urls.interceptor';

/**
 * Everything an admin controller shares: the `/admin` path, authentication, the JSON body
 * reader, URLs masked in answers, the error shape, and the OpenAPI security schemes and common
 * error answers.
 */
export function AdminController(tag: string): ClassDecorator {
  const error = openApi(errorSchema, 'output');
  return applyDecorators(
    Controller('admin'),
    UseGuards(AdminAuthGuard),
    UseInterceptors(AdminJsonBodyInterceptor, MaskUrlsInterceptor),
    UseFilters(AdminExceptionFilter),
    ApiTags(tag),
    ApiBearerAuth(ADMIN_BEARER_SCHEME),
    ApiSecurity(ADMIN_API_KEY_SCHEME),
    ApiResponse({ status: 401, description: 'Missing or wrong admin credentials.', schema: error }),
    ApiResponse({
      status: 429,
      description: 'Too many failed authentications from this IP (see Retry-After).',
      schema: error,
    }),
  );
}
