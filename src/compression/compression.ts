import {
  constants,
  createBrotliCompress,
  createGzip,
  brotliCompress,
  gzip,
  type BrotliOptions,
  type ZlibOptions,
} from 'node:zlib';
import type { Transform } from 'node:stream';

export type ContentCoding = 'br' | 'gzip';

/**
 * Brotli at quality 4 compresses about as fast as gzip level 6 and still smaller; quality 11
 * (the default) is meant for static assets compressed once, not for responses on the fly.
 */
const BROTLI: BrotliOptions = {
  params: {
    [constants.BROTLI_PARAM_QUALITY]: 4,
    [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
  },
};
const GZIP: ZlibOptions = { level: 6 };

function qValue(params: string): number {
  const m = /;\s*q\s*=\s*([0-9.]+)/i.exec(params);
  if (!m) {
    return 1;
  }
  const q = Number(m[1]);
  return Number.isFinite(q) ? Math.min(1, Math.max(0, q)) : 1;
}

const negotiated = new Map<string, ContentCoding | undefined>();

/**
 * Picks the coding for an `Accept-Encoding` value (RFC 9110 §12.5.3): the highest q-value among
 * br and gzip (explicitly or through `*`), brotli on a tie; undefined means identity. Results are
 * memoised: clients send only a handful of distinct values.
 */
export function negotiateEncoding(accept: string | undefined): ContentCoding | undefined {
  if (accept === undefined || accept === '') {
    return undefined;
  }
  const cached = negotiated.get(accept);
  if (cached !== undefined || negotiated.has(accept)) {
    return cached;
  }
  let br: number | undefined;
  let gz: number | undefined;
  let star: number | undefined;
  for (const part of accept.split(',')) {
    const semi = part.indexOf(';');
    const name = (semi === -1 ? part : part.slice(0, semi)).trim().toLowerCase();
    const q = semi === -1 ? 1 : qValue(part.slice(semi));
    if (name === 'br') {
      br = q;
    } else if (name === 'gzip' || name === 'x-gzip') {
      gz = q;
    } else if (name === '*') {
      star = q;
    }
  }
  const qBr = br ?? star ?? 0;
  const qGz = gz ?? star ?? 0;
  let result: ContentCoding | undefined;
  if (qBr > 0 && qBr >= qGz) {
    result = 'br';
  } else if (qGz > 0) {
    result = 'gzip';
  }
  if (negotiated.size < 256) {
    negotiated.set(accept, result);
  }
  return result;
}

/** Media types worth compressing; images, video, archives and fonts in WOFF are already packed. */
export function isCompressibleType(contentType: string | undefined): boolean {
  if (contentType === undefined) {
    return false;
  }
  const semi = contentType.indexOf(';');
  const type = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  if (type === 'text/event-stream') {
    // Server-sent events must reach the client event by event; a compressor buffers them.
    return false;
  }
  if (type.startsWith('text/')) {
    return true;
  }
  if (type.endsWith('+json') || type.endsWith('+xml')) {
    return true;
  }
  switch (type) {
    case 'application/json':
    case 'application/javascript':
    case 'application/x-javascript':
    case 'application/ecmascript':
    case 'application/xml':
    case 'application/xhtml+xml':
    case 'application/x-ndjson':
    case 'application/graphql':
    case 'application/wasm':
    case 'application/x-www-form-urlencoded':
    case 'application/vnd.ms-fontobject':
    case 'font/ttf':
    case 'font/otf':
    case 'image/svg+xml':
    case 'image/x-icon':
    case 'image/bmp':
      return true;
    default:
      return false;
  }
}

/**
 * A streaming compressor for `coding`. Like nginx's gzip filter it emits output as its window
 * fills, not per upstream chunk (event streams are never compressed, see above).
 */
export function createCompressor(coding: ContentCoding): Transform {
  return coding === 'br' ? createBrotliCompress(BROTLI) : createGzip(GZIP);
}

/** One-shot compression of a stored body, off the event loop (zlib's thread pool). */
export function compressBuffer(coding: ContentCoding, body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, out: Buffer) => (err ? reject(err) : resolve(out));
    if (coding === 'br') {
      brotliCompress(body, BROTLI, done);
    } else {
      gzip(body, GZIP, done);
    }
  });
}

/** Appends `accept-encoding` to the Vary pairs of `headers` (in place), or adds one. */
export function addVaryAcceptEncoding(headers: string[]): void {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i].toLowerCase() === 'vary') {
      const value = headers[i + 1];
      if (value.trim() === '*' || /(^|,)\s*accept-encoding\s*(,|$)/i.test(value)) {
        return;
      }
      headers[i + 1] = value.trim() === '' ? 'Accept-Encoding' : `${value}, Accept-Encoding`;
      return;
    }
  }
  headers.push('vary', 'Accept-Encoding');
}
