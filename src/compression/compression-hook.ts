import type { IncomingMessage } from 'node:http';
import type { GatewayErrorCode } from '../common/errors/gateway-error';
import { parseCacheControl } from '../common/http/cache-control';
import { getHeader, removeHeader } from '../common/http/flat-headers';
import type { HookedExchange, ResponseHook } from '../common/http/response-hook';
import {
  addVaryAcceptEncoding,
  createCompressor,
  isCompressibleType,
  negotiateEncoding,
} from './compression';

/** A strong ETag names the identity bytes; the compressed ones get the weak form (as nginx). */
export function weakenEtag(headers: string[]): void {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i].toLowerCase() === 'etag' && headers[i + 1].startsWith('"')) {
      headers[i + 1] = `W/${headers[i + 1]}`;
    }
  }
}

/**
 * Decides whether this upstream response is compressed for this client and, if so, rewrites
 * `out` (Content-Encoding, no Content-Length, weak ETag) and puts a zlib stream between the
 * exchange and the client: the exchange writes into it, it pipes into the response, and the
 * exchange's `drain` wait now follows the compressor, so backpressure holds end to end.
 * `Vary: Accept-Encoding` is added to every response the gateway would compress for some client
 * (compressible, not too small), compressed or not; any other keeps the upstream's Vary as sent.
 */
export function applyCompression(
  exchange: HookedExchange,
  req: IncomingMessage,
  status: number,
  out: string[],
  minBytes: number,
): void {
  if (status < 200 || status === 204 || status === 206 || status === 304) {
    return;
  }
  if (!isCompressibleType(getHeader(out, 'content-type'))) {
    return;
  }
  const encoding = getHeader(out, 'content-encoding');
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    return;
  }
  if (
    getHeader(out, 'content-range') !== undefined ||
    parseCacheControl(getHeader(out, 'cache-control')).noTransform
  ) {
    return;
  }
  const length = getHeader(out, 'content-length');
  if (length !== undefined && Number(length) < minBytes) {
    // No client would get another encoding of this response: its Vary stays as sent.
    return;
  }
  addVaryAcceptEncoding(out);
  if (req.method === 'HEAD' || req.headers.range !== undefined) {
    return;
  }
  const coding = negotiateEncoding(req.headers['accept-encoding']);
  if (coding === undefined) {
    return;
  }
  removeHeader(out, 'content-length');
  removeHeader(out, 'content-encoding');
  removeHeader(out, 'accept-ranges');
  weakenEtag(out);
  out.push('content-encoding', coding);
  const compressor = createCompressor(coding);
  const res = exchange.res;
  compressor.on('error', () => res.destroy());
  res.once('close', () => compressor.destroy());
  compressor.pipe(res);
  exchange.sink = compressor;
}

/** Compression alone, for routes that do not cache. */
export class CompressionHook implements ResponseHook {
  constructor(
    private readonly req: IncomingMessage,
    private readonly minBytes: number,
  ) {}

  onHeaders(exchange: HookedExchange, status: number, _raw: Buffer[], out: string[]): boolean {
    applyCompression(exchange, this.req, status, out, this.minBytes);
    return false;
  }

  onData(): void {}

  onComplete(): void {}

  onError(): void {}

  onFail(_exchange: HookedExchange, _code: GatewayErrorCode): boolean {
    return false;
  }
}
