import { Inject, Injectable } from '@nestjs/common';
import type { Logger as PinoLogger } from 'pino';
import { ROOT_LOGGER } from './observability.constants';

/** One line per finished exchange, as the README documents them. */
export interface AccessRecord {
  requestId: string;
  method: string | undefined;
  host: string | undefined;
  path: string | undefined;
  route: string | undefined;
  upstream: string | undefined;
  status: number;
  durationMs: number;
  bytesIn: number;
  bytesOut: number;
  clientIp: string;
  /** JWT subject or API-key name, when the request was authenticated. */
  principal?: string;
  error?: string;
}

@Injectable()
export class AccessLogService {
  private readonly enabled: boolean;

  constructor(@Inject(ROOT_LOGGER) private readonly logger: PinoLogger) {
    this.enabled = logger.isLevelEnabled('info');
  }

  log(record: AccessRecord): void {
    if (!this.enabled) {
      return;
    }
    if (record.status >= 500) {
      this.logger.warn(record, 'request completed');
    } else {
      this.logger.info(record, 'request completed');
    }
  }
}
