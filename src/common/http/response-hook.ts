import type { Writable } from 'node:stream';
import type { ServerResponse } from 'node:http';
import type { GatewayErrorCode } from '../errors/gateway-error';

/** Where the exchange writes response body chunks: the client, or a compressor in front of it. */
export type ResponseSink = Pick<Writable, 'write' | 'end' | 'once'> | ServerResponse;

/** Headers to add where an answer lacks them: flat `[name, value, …]` lists and their names. */
export interface HeaderFill {
  /** For plain HTTP. */
  readonly plain: readonly string[];
  /** For clients that used TLS (with HSTS). */
  readonly tls: readonly string[];
  /** Lower-case names, to detect what an answer already carries. */
  readonly names: ReadonlySet<string>;
}

/** The exchange as a response hook sees it (kept narrow so the hook stays testable). */
export interface HookedExchange {
  readonly res: ServerResponse;
  readonly requestId: string;
  /** The client used TLS (ours, or a trusted proxy's word): picks the HSTS header set. */
  readonly tls: boolean;
  /** Security headers a proxied answer on this route is filled in with. */
  readonly proxiedSecurity: HeaderFill;
  sink: ResponseSink;
  status: number;
  bytesOut: number;
  cacheStatus: string | undefined;
  responseHeaders: string[] | undefined;
  /** The CORS policy judged the Origin: stored `Access-Control-*` headers are not served. */
  readonly dropUpstreamCors: boolean;
}

/** Swallows the rest of an upstream body the hook has already answered for. */
export const DISCARD_SINK: ResponseSink = {
  write: () => true,
  end: function end(this: unknown) {
    return this;
  },
  once: function once(this: unknown) {
    return this;
  },
} as unknown as ResponseSink;

/**
 * Cache recording, revalidation and compression plugged into `UpstreamExchange` (the undici
 * dispatch handler). Absent on routes without cache and compression, so plain proxying pays one
 * `undefined` test per callback.
 */
export interface ResponseHook {
  /**
   * Final upstream status and headers. `raw` is undici's list; `out` the filtered list about to
   * be written, which the hook may edit in place (X-Cache, Content-Encoding, Vary) and whose
   * body sink it may replace. Returns true when the hook answered the client itself (a 304 to
   * the gateway's own conditional request, stale-if-error); the upstream body is then discarded.
   */
  onHeaders(exchange: HookedExchange, status: number, raw: Buffer[], out: string[]): boolean;
  /** One upstream body chunk (identity bytes, before any compression). */
  onData(chunk: Buffer): void;
  /** The upstream body is complete (before the response is ended). */
  onComplete(exchange: HookedExchange): void;
  /** The current attempt failed or was aborted. */
  onError(): void;
  /** The gateway is about to answer `code` itself; true when the hook answered instead. */
  onFail(exchange: HookedExchange, code: GatewayErrorCode): boolean;
}
