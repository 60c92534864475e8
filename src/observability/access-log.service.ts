import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import pino, { type Logger as PinoLogger } from 'pino';
import { InjectGatewayConfig } from '../config/gateway.config';
import type { GatewayConfig } from '../config/gateway-config.types';
import { accessLineFormatter, type AccessLineFormatter } from './access-line';
import { LogWriter } from './log-writer';
import { gatewayMetricFamilies } from './metrics/gateway-metrics';
import { logWriterOf } from './root-logger';
import { ROOT_LOGGER } from './observability.constants';

/** One line per finished exchange, as the README documents them (ACCESS_LOG_FIELDS picks). */
export interface AccessRecord {
  requestId: string;
  method: string | undefined;
  host: string | undefined;
  /** The path as the client sent it, without the query. */
  path: string | undefined;
  /** The raw query string, without `?` (masked by ACCESS_LOG_REDACT_PARAMS when written). */
  query?: string;
  route: string | undefined;
  upstream: string | undefined;
  status: number;
  durationMs: number;
  /**
   * Time spent waiting on upstreams, in ms: every attempt from dispatch to its response head (or
   * its failure). Undefined when no upstream was asked (cache HIT, refused requests).
   */
  upstreamLatencyMs?: number;
  /** Upstream attempts made (retries included); 0 when none. */
  attempts: number;
  /** The cache's verdict (HIT, MISS, STALE, BYPASS, ...) on cache-enabled routes. */
  cacheStatus?: string;
  bytesIn: number;
  bytesOut: number;
  clientIp: string;
  userAgent?: string;
  referer?: string;
  /** JWT subject or API-key name, when the request was authenticated. */
  principal?: string;
  error?: string;
  /** W3C trace id of the request's span, when tracing is on. */
  traceId?: string;
}

/** A pino destination: every logger writes its serialised lines to one. */
interface LineSink {
  write(line: string): unknown;
}

/**
 * Writes the access log as pre-formatted JSON lines (see accessLineFormatter): into the root
 * logger's destination, with every other log line and in order with them (on stdout that is a
 * batched LogWriter), or, with `ACCESS_LOG_FILE`, into a LogWriter of its own on that file,
 * flushed on shutdown. Both have the shape pino would write. Cheap when the level is above
 * info: one boolean test.
 */
@Injectable()
export class AccessLogService implements OnApplicationShutdown {
  private readonly enabled: boolean;
  private readonly file: LogWriter | undefined;
  /** The root logger's stdout writer, for its drop count (undefined when pretty, or in tests). */
  private readonly stdout: LogWriter | undefined;
  /** The logger's bindings as pino serialises them (`,"pid":123` in cluster workers). */
  private readonly bindings: string;
  private readonly format: AccessLineFormatter;
  private readonly removeMetricSource: () => void;

  constructor(
    @Inject(ROOT_LOGGER) private readonly logger: PinoLogger,
    @InjectGatewayConfig() config: GatewayConfig,
  ) {
    this.enabled = logger.isLevelEnabled('info');
    this.format = accessLineFormatter(config.log.accessLogFields, config.log.accessLogRedactParams);
    this.stdout = logWriterOf(logger);
    this.bindings =
      (logger as unknown as Record<symbol, string | undefined>)[pino.symbols.chindingsSym] ?? '';
    if (config.log.accessLogFile && this.enabled) {
      this.file = LogWriter.toFile(config.log.accessLogFile);
    }
    this.removeMetricSource = gatewayMetricFamilies().logLinesDropped.addSource(() =>
      this.droppedLines(),
    );
  }

  log(record: AccessRecord): void {
    if (!this.enabled) {
      return;
    }
    const line = this.format(record.status >= 500 ? 'warn' : 'info', this.bindings, record);
    if (this.file) {
      this.file.write(line);
      return;
    }
    // Looked up per line: the terminal dashboard swaps the logger's destination while it is up.
    (this.logger as unknown as Record<symbol, LineSink>)[pino.symbols.streamSym].write(line);
  }

  /** `log_lines_dropped_total{destination}`: lines the outputs could not take. */
  droppedLines(): [destination: string[], count: number][] {
    const counts: [string[], number][] = [[['stdout'], this.stdout?.dropped ?? 0]];
    if (this.file) {
      counts.push([['file'], this.file.dropped]);
    }
    return counts;
  }

  async onApplicationShutdown(): Promise<void> {
    this.removeMetricSource();
    await this.file?.close();
  }
}
