import { Catch, Logger } from '@nestjs/common';
import {
  GatewayExceptionFilter,
  type ErrorAnswer,
} from '../common/filters/gateway-exception.filter';
import { AdminError } from './admin-error';

/**
 * The gateway's error shape for the admin API, which also knows AdminError: its status, its
 * `details: [{field, message}]` for validation errors and the headers it carries.
 */
@Catch()
export class AdminExceptionFilter extends GatewayExceptionFilter {
  protected override readonly logger = new Logger('AdminApi');

  protected override answerFor(exception: unknown): ErrorAnswer | undefined {
    if (exception instanceof AdminError) {
      const { status, message, details, headers } = exception;
      return { status, message, details, headers };
    }
    return super.answerFor(exception);
  }
}
