import type { Server } from 'node:http';
import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Logger } from 'pino';
import { GATEWAY_VERSION } from '../../common/version';
import { InjectGatewayConfig } from '../../config/gateway.config';
import type { GatewayConfig } from '../../config/gateway-config.types';
import { ROOT_LOGGER } from '../observability.constants';
import { SYSTEM_METRICS_MAX_ROUTES, SystemMetricsService } from '../system-metrics.service';
import { TrafficStatsService } from '../traffic-stats.service';
import { renderDashboard, type DashboardView } from './dashboard-renderer';
import { LogDiversion } from './log-diversion';
import { TerminalDashboard, type TerminalIO } from './terminal-dashboard';

export const DASHBOARD_REFRESH_MS = 1000;
/** req/s values kept for the sparkline: wider than any terminal needs. */
const RPS_HISTORY = 240;

/**
 * The live terminal dashboard. It starts once the gateway is listening, only when stdout is a
 * terminal (the same test that turns on pretty logs), `NO_DASHBOARD` is unset and the gateway runs
 * as one process (cluster workers share one terminal). While it is up, log lines below warn are
 * dropped and warnings are shown in its pane (see LogDiversion); `q` closes it and the gateway
 * keeps serving, Ctrl-C and SIGTERM close it before the gateway's own shutdown logs anything.
 */
@Injectable()
export class DashboardService implements OnApplicationBootstrap, OnApplicationShutdown {
  private dashboard: TerminalDashboard | undefined;
  private diversion: LogDiversion | undefined;
  private url = '';
  private readonly rpsHistory: number[] = [];
  private lastPointAt = 0;

  constructor(
    @InjectGatewayConfig() private readonly config: GatewayConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    private readonly traffic: TrafficStatsService,
    private readonly system: SystemMetricsService,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  /** Whether this process should show the dashboard. */
  get wanted(): boolean {
    return (
      !this.config.noDashboard &&
      this.config.log.pretty &&
      process.stdout.isTTY === true &&
      this.config.server.workers <= 1
    );
  }

  get isRunning(): boolean {
    return this.dashboard?.isRunning === true;
  }

  onApplicationBootstrap(): void {
    if (!this.wanted) {
      return;
    }
    const server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    server.once('listening', () => {
      const a = server.address();
      const url =
        a && typeof a === 'object'
          ? `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`
          : String(a);
      // After the "gateway listening" line, which is logged once listen() resolves.
      setImmediate(() => this.start(url));
    });
  }

  /** Shows the dashboard on this process's terminal. */
  start(url: string, io: TerminalIO = processTerminal()): void {
    if (this.dashboard?.isRunning) {
      return;
    }
    this.url = url;
    const diversion = new LogDiversion(this.logger);
    this.diversion = diversion;
    this.dashboard = new TerminalDashboard(
      io,
      (size) => renderDashboard(this.view(), size, true),
      DASHBOARD_REFRESH_MS,
      (error) => {
        process.off('SIGINT', this.onSignal);
        process.off('SIGTERM', this.onSignal);
        diversion.restore();
        if (error) {
          this.logger.error({ err: error }, 'terminal dashboard failed and was closed');
        }
      },
    );
    // Ahead of main.ts's handlers, so the terminal is restored before the shutdown lines.
    process.prependListener('SIGINT', this.onSignal);
    process.prependListener('SIGTERM', this.onSignal);
    diversion.divert();
    this.dashboard.start();
  }

  stop(): void {
    this.dashboard?.stop();
  }

  onApplicationShutdown(): void {
    this.stop();
  }

  /** The current view; public for tests. */
  view(): DashboardView {
    const traffic = this.traffic.snapshot(SYSTEM_METRICS_MAX_ROUTES);
    // One value per refresh period, so extra redraws (a resize) keep the sparkline time-based.
    const now = Date.now();
    if (now - this.lastPointAt >= DASHBOARD_REFRESH_MS / 2) {
      this.lastPointAt = now;
      this.rpsHistory.push(traffic.rates.requestsPerSecond);
      if (this.rpsHistory.length > RPS_HISTORY) {
        this.rpsHistory.shift();
      }
    }
    const report = this.system.report;
    return {
      version: GATEWAY_VERSION,
      url: this.url,
      algorithm: this.config.loadBalancing.algorithm,
      now: new Date(),
      traffic,
      system: { host: report.host, process: report.process },
      rpsHistory: this.rpsHistory,
      refreshMs: DASHBOARD_REFRESH_MS,
      logs: this.diversion?.recent(5) ?? [],
      hiddenLogLines: this.diversion?.hidden ?? 0,
    };
  }

  private readonly onSignal = (): void => {
    this.stop();
  };
}

function processTerminal(): TerminalIO {
  return {
    stdout: process.stdout,
    stdin: process.stdin,
    kill: (signal) => process.kill(process.pid, signal),
    onExit: (restore) => {
      process.once('exit', restore);
      return () => process.off('exit', restore);
    },
  };
}
