import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger as PinoLogger } from 'pino';
import { InjectGatewayConfig } from '../config/gateway.config';
import type { GatewayConfig } from '../config/gateway-config.types';
import { AccessLogFile } from './access-log-file';
import { formatAccessLine } from './access-line';
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
  /** W3C trace id of the request's span, when tracing is on. */
  traceId?: string;
}

/**
 * Writes the access log: to stdout with every other log line (through pino), or, with
 * `ACCESS_LOG_FILE`, to a file in batches (see AccessLogFile), flushed on shutdown. The file
 * lines have the same JSON shape as the stdout ones. Cheap when the level is above info: one
 * boolean test.
 */
@Injectable()
export class AccessLogService implements OnApplicationShutdown {
  private readonly enabled: boolean;
  private readonly file: AccessLogFile | undefined;

  constructor(
    @Inject(ROOT_LOGGER) private readonly logger: PinoLogger,
    @InjectGatewayConfig() config: GatewayConfig,
  ) {
    this.enabled = logger.isLevelEnabled('info');
    if (config.log.accessLogFile && this.enabled) {
      this.file = new AccessLogFile(config.log.accessLogFile);
    }
  }

  log(record: AccessRecord): void {
    if (!this.enabled) {
      return;
    }
    const level = record.status >= 500 ? 'warn' : 'info';
    if (this.file) {
      this.file.append(formatAccessLine(level, record));
      return;
    }
    this.logger[level](record, 'request completed');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.file?.close();
  }
}
