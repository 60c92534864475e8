import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import {
  classifyUpstreamError,
  GatewayErrorCode,
  sendGatewayError,
} from '../common/errors/gateway-error';
import type { Upstream } from '../load-balancing/upstream';
import type { AccessLogService } from '../observability/access-log.service';
import type { CompiledRoute } from '../routing/compiled-route';
import { filterResponseHeaders } from './forward-headers';

/**
 * One client request ↔ one upstream attempt. It is undici's dispatch handler (the legacy
 * callback shape, which is undici 7's native one: no per-request wrapper) and streams the upstream
 * response straight into the client's ServerResponse, with backpressure in both directions.
 */
export class UpstreamExchange implements Dispatcher.DispatchHandler {
  route: CompiledRoute | undefined;
  upstream: Upstream | undefined;
  status = 0;
  bytesIn = 0;
  bytesOut = 0;
  error: string | undefined;

  private abortUpstream: ((err?: Error) => void) | undefined;
  private resumeUpstream: (() => void) | undefined;
  private clientGone = false;
  private logged = false;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly requestId: string,
    readonly clientIp: string,
    readonly path: string,
    private readonly startedAt: number,
    private readonly accessLog: AccessLogService,
  ) {
    res.once('close', this.onClientClose);
  }

  // undici calls these with `this` bound to the handler, so plain methods are fine here; the
  // arrow properties below are passed as event listeners.

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.clientGone) {
      abort(new Error('client closed the connection'));
    }
  }

  onHeaders(
    statusCode: number,
    rawHeaders: Buffer[],
    resume: () => void,
    statusText: string,
  ): boolean {
    // 1xx (100 Continue, 103 Early Hints) are interim; the final status follows (seed-spec D9).
    if (statusCode < 200) {
      return true;
    }
    this.status = statusCode;
    this.resumeUpstream = resume;
    if (this.clientGone) {
      return false;
    }
    this.res.writeHead(
      statusCode,
      statusText || undefined,
      filterResponseHeaders(rawHeaders, this.requestId),
    );
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.bytesOut += chunk.length;
    if (this.res.write(chunk)) {
      return true;
    }
    this.res.once('drain', this.onDrain);
    return false;
  }

  onComplete(rawTrailers: string[] | Buffer[] | null): void {
    if (rawTrailers && rawTrailers.length > 0) {
      const trailers: [string, string][] = [];
      for (let i = 0; i < rawTrailers.length; i += 2) {
        trailers.push([rawTrailers[i].toString(), rawTrailers[i + 1].toString()]);
      }
      this.res.addTrailers(trailers);
    }
    this.res.end();
    this.finish();
  }

  onError(err: Error): void {
    if (this.clientGone) {
      this.finish();
      return;
    }
    this.error = (err as { code?: string }).code ?? err.message;
    if (this.res.headersSent) {
      // Mid-body failure: cutting the connection is the only way to tell the client the body
      // is incomplete; a clean end would look like success.
      this.res.destroy();
      this.finish();
      return;
    }
    this.fail(classifyUpstreamError(err));
  }

  // undici 7 passes the chunk itself although its typings say a size; accept both.
  onBodySent(chunk: number): void {
    const sent = chunk as number | Buffer;
    this.bytesIn += typeof sent === 'number' ? sent : sent.length;
  }

  /** Answers with a gateway error and logs the exchange. */
  fail(code: GatewayErrorCode, extraHeaders?: Record<string, string>, message?: string): void {
    sendGatewayError(this.res, code, this.requestId, extraHeaders, message);
    this.status = this.res.statusCode;
    this.finish();
  }

  private readonly onDrain = (): void => {
    this.resumeUpstream?.();
  };

  private readonly onClientClose = (): void => {
    if (this.res.writableFinished) {
      return;
    }
    // The client went away first: stop the upstream work it no longer wants.
    this.clientGone = true;
    this.abortUpstream?.(new Error('client closed the connection'));
    this.finish();
  };

  private finish(): void {
    if (this.logged) {
      return;
    }
    this.logged = true;
    if (this.upstream) {
      this.upstream.inFlight--;
    }
    this.accessLog.log({
      requestId: this.requestId,
      method: this.req.method,
      host: this.req.headers.host,
      path: this.path,
      route: this.route?.name,
      upstream: this.upstream?.key,
      // 499 as nginx logs it: the client closed the connection before the response completed.
      status: this.clientGone ? 499 : this.status,
      durationMs: Math.round((performance.now() - this.startedAt) * 1000) / 1000,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      clientIp: this.clientIp,
      error: this.error,
    });
  }
}

export { GatewayErrorCode };
