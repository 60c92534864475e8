import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type TextMapPropagator,
  type Tracer,
} from '@opentelemetry/api';

/** What the finished request span records, from the exchange's access-log fields. */
export interface RequestSpanEnd {
  status: number;
  route?: string;
  upstream?: string;
  principal?: string;
  error?: string;
  bytesIn: number;
  bytesOut: number;
}

/** Writes propagation headers into the upstream request's plain header object. */
const headerSetter = {
  set(carrier: Record<string, string | string[]>, key: string, value: string): void {
    carrier[key] = value;
  },
};

/**
 * The spans of one proxied request: `gateway.request` (SERVER) from the first byte to the
 * access-log line, and one `gateway.upstream` (CLIENT) child per attempt, whose context is what
 * the upstream receives in `traceparent`, so a retry shows up as a second child.
 *
 * Spans are parented explicitly through contexts, never through a global context manager: that
 * would need AsyncLocalStorage on every request, which the proxy avoids (see ObservabilityModule).
 */
export class RequestTrace {
  private attemptSpan: Span | undefined;
  private readonly context: Context;

  constructor(
    private readonly tracer: Tracer,
    private readonly propagator: TextMapPropagator,
    readonly span: Span,
  ) {
    this.context = trace.setSpan(ROOT_CONTEXT, span);
  }

  /** Hex trace id, for the access log; also set when this request is not sampled. */
  get traceId(): string {
    return this.span.spanContext().traceId;
  }

  /** Starts the attempt's span and writes its `traceparent`/`tracestate` into `headers`. */
  startAttempt(
    upstream: string,
    attempt: number,
    method: string,
    headers: Record<string, string | string[]>,
  ): void {
    this.endAttempt(0, 'superseded');
    const span = this.tracer.startSpan(
      'gateway.upstream',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': method,
          'gateway.upstream': upstream,
          'gateway.attempt': attempt,
          ...(attempt > 1 ? { 'http.request.resend_count': attempt - 1 } : {}),
        },
      },
      this.context,
    );
    this.attemptSpan = span;
    this.propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, headerSetter);
  }

  /** Ends the current attempt's span (status 0: no response, e.g. a connect error). */
  endAttempt(status: number, error?: string): void {
    const span = this.attemptSpan;
    if (!span) {
      return;
    }
    this.attemptSpan = undefined;
    if (status > 0) {
      span.setAttribute('http.response.status_code', status);
    }
    if (error !== undefined || status >= 500) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error ?? `HTTP ${status}` });
      if (error !== undefined) {
        span.setAttribute('error.type', error);
      }
    }
    span.end();
  }

  finish(end: RequestSpanEnd): void {
    this.endAttempt(0, end.error ?? 'exchange ended');
    const span = this.span;
    if (span.isRecording()) {
      span.setAttribute('http.response.status_code', end.status);
      span.setAttribute('gateway.bytes_in', end.bytesIn);
      span.setAttribute('gateway.bytes_out', end.bytesOut);
      if (end.route !== undefined) {
        span.setAttribute('http.route', end.route);
      }
      if (end.upstream !== undefined) {
        span.setAttribute('gateway.upstream', end.upstream);
      }
      if (end.principal !== undefined) {
        span.setAttribute('enduser.id', end.principal);
      }
      if (end.status >= 500 || (end.status === 499 && end.error !== undefined)) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: end.error ?? `HTTP ${end.status}` });
      }
      if (end.error !== undefined) {
        span.setAttribute('error.type', end.error);
      }
    }
    span.end();
  }
}
