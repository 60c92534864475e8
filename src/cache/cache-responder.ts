import type { IncomingMessage } from 'node:http';
import { compressBuffer, negotiateEncoding } from '../compression/compression';
import { removeHeader } from '../common/http/flat-headers';
import { currentAgeMs, type EntryViews, type LiveEntry, remainingFreshMs } from './cache-entry';
import { notModified } from './cache-policy';
import type { MemoryStore } from './memory-store';
import type { HookedExchange } from '../common/http/response-hook';
import { removeCorsHeaders } from '../common/http/flat-headers';
import { buildView, mergeExtra, type ViewKind } from './stored-headers';
import { requestedRange } from './partial-entry';
import type { ByteSpan } from './ranges';

const EMPTY = Buffer.alloc(0);

/**
 * Writes responses from stored entries: 304 to matching client conditionals, compressed copies
 * made once per entry and coding, header arrays built once per entry and kind, so a memory hit
 * only computes Age, Cache-Status, Content-Length and X-Request-Id.
 */
export class CacheResponder {
  /**
   * Compressed copies of Redis entries, per replica, keyed by stored version and coding; FIFO
   * within a quarter of CACHE_MAX_SIZE. A purged or replaced entry is never read again, since
   * its version id is gone from Redis, so its copy simply ages out.
   */
  private readonly sharedEncoded = new Map<string, Buffer>();
  private sharedEncodedBytes = 0;

  constructor(
    /** Cache-Status cache name. */
    private readonly name: string,
    /** COMPRESSION_MIN_SIZE, or undefined when compression is off. */
    private readonly compressionMinBytes: number | undefined,
    private readonly memory: MemoryStore,
    /** `CACHE_TARGETED_FIELD`: kept in the entry for revalidation, never sent to clients. */
    private readonly targetedField?: string,
  ) {}

  /**
   * Answers from a stored entry: 304 when the client's conditionals match, the compressed copy
   * when the client accepts one (made once per entry and coding, off the event loop), else
   * the stored body. Synchronous unless a compressed copy has to be made first.
   */
  serve(
    exchange: HookedExchange,
    req: IncomingMessage,
    entry: LiveEntry,
    verdict: 'HIT' | 'STALE',
    detail: string,
  ): void {
    const now = Date.now();
    let kind: ViewKind = '';
    const inm = req.headers['if-none-match'];
    const ims = req.headers['if-modified-since'];
    if (
      (inm !== undefined || ims !== undefined) &&
      entry.status === 200 &&
      notModified(entry, inm, ims)
    ) {
      kind = '304';
    } else if (req.headers.range !== undefined) {
      const span = requestedRange(entry, req);
      if (span !== undefined) {
        this.write(exchange, req, entry, verdict, detail, '', entry.body, now, span);
        return;
      }
    }
    if (kind === '304') {
      // 304: no body, no compression.
    } else if (
      this.compressionMinBytes !== undefined &&
      entry.compressible &&
      entry.body.length >= this.compressionMinBytes &&
      req.method !== 'HEAD'
    ) {
      const coding = negotiateEncoding(req.headers['accept-encoding']);
      if (coding !== undefined) {
        const views = (entry.views ??= newViews());
        const memoKey = entry.sharedId === undefined ? undefined : `${entry.sharedId}\n${coding}`;
        const encoded =
          memoKey === undefined ? views.encoded.get(coding) : this.sharedEncoded.get(memoKey);
        if (encoded === undefined) {
          compressBuffer(coding, entry.body).then(
            (body) => {
              if (memoKey !== undefined) {
                this.memoiseShared(memoKey, body);
              } else if (!views.encoded.has(coding)) {
                views.encoded.set(coding, body);
                this.memory.grow(entry, body.length);
              }
              this.write(exchange, req, entry, verdict, detail, coding, body, Date.now());
            },
            () => this.write(exchange, req, entry, verdict, detail, '', entry.body, Date.now()),
          );
          return;
        }
        this.write(exchange, req, entry, verdict, detail, coding, encoded, now);
        return;
      }
    }
    this.write(exchange, req, entry, verdict, detail, kind, entry.body, now);
  }

  private write(
    exchange: HookedExchange,
    req: IncomingMessage,
    entry: LiveEntry,
    verdict: 'HIT' | 'STALE',
    detail: string,
    kind: ViewKind,
    body: Buffer,
    now: number,
    /** A single range of the stored body to answer with (206), or 416 when unsatisfiable. */
    span?: ByteSpan | 'unsatisfiable',
  ): void {
    const res = exchange.res;
    if (res.destroyed || res.writableEnded) {
      return;
    }
    const views = (entry.views ??= newViews());
    const tls = exchange.tls;
    const viewKey = tls ? `t${kind}` : kind;
    let view = views.headers.get(viewKey);
    if (view === undefined) {
      view = buildView(
        entry.headers,
        kind,
        this.compressionMinBytes !== undefined &&
          entry.compressible &&
          entry.body.length >= this.compressionMinBytes,
        exchange.proxiedSecurity,
        tls,
      );
      if (this.targetedField !== undefined) {
        removeHeader(view, this.targetedField);
      }
      views.headers.set(viewKey, view);
    }
    const age = Math.floor(currentAgeMs(entry, now) / 1000);
    const ttl = Math.floor(remainingFreshMs(entry, now) / 1000);
    // A fresh array either way, extended in place (concat with loose items is slower).
    let headers: string[];
    if (exchange.dropUpstreamCors) {
      // The stored upstream answer's CORS headers go; the gateway's own (in the extra) stay.
      headers = view.slice();
      removeCorsHeaders(headers);
      headers = mergeExtra(headers, exchange.responseHeaders ?? []);
    } else {
      headers = exchange.responseHeaders
        ? mergeExtra(view, exchange.responseHeaders)
        : view.slice();
    }
    let status = kind === '304' ? 304 : entry.status;
    if (span !== undefined) {
      // RFC 9110 §14.4, §15.3.7, §15.5.17: the part and where it sits in the whole.
      const length = entry.partial?.length ?? entry.body.length;
      if (span === 'unsatisfiable') {
        status = 416;
        body = EMPTY;
        headers.push('content-range', `bytes */${length}`);
      } else {
        status = 206;
        body = entry.body.subarray(span[0], span[1] + 1);
        headers.push('content-range', `bytes ${span[0]}-${span[1]}/${length}`);
      }
    }
    if (kind !== '304' && status !== 204) {
      headers.push('content-length', String(body.length));
    }
    headers.push(
      'age',
      String(age),
      'x-cache',
      verdict,
      'cache-status',
      `${this.name}; ${detail}; ttl=${ttl}`,
      'x-request-id',
      exchange.requestId,
    );
    try {
      res.writeHead(status, headers);
    } catch {
      // A stored header Node refuses (only possible after a 304 merged new ones): never crash.
      res.destroy();
      return;
    }
    exchange.status = status;
    exchange.cacheStatus = verdict;
    if (kind === '304' || req.method === 'HEAD') {
      res.end();
    } else {
      exchange.bytesOut = body.length;
      if (body.length <= ONE_WRITE_MAX_BYTES && span === undefined) {
        // Node sends the head and a latin1 string body as one string in one write(); a Buffer
        // body goes out as a second chunk of a writev. latin1 maps bytes to chars one to one,
        // so the bytes on the wire are the stored ones.
        res.end(this.latin1Body(entry, views, kind, body), 'latin1');
      } else {
        res.end(body);
      }
    }
  }

  /**
   * The body as a latin1 string: made once per memory entry and coding, and counted against the
   * store's size like a compressed copy. A Redis entry is a new object on every read, so its
   * string is made per answer.
   */
  private latin1Body(entry: LiveEntry, views: EntryViews, kind: ViewKind, body: Buffer): string {
    if (entry.sharedId !== undefined) {
      return body.toString('latin1');
    }
    let text = views.latin1.get(kind);
    if (text === undefined) {
      text = body.toString('latin1');
      views.latin1.set(kind, text);
      this.memory.grow(entry, text.length);
    }
    return text;
  }

  private memoiseShared(key: string, body: Buffer): void {
    const budget = this.memory.capacityBytes / 4;
    if (body.length > budget || this.sharedEncoded.has(key)) {
      return;
    }
    this.sharedEncoded.set(key, body);
    this.sharedEncodedBytes += body.length;
    for (const [oldKey, old] of this.sharedEncoded) {
      if (this.sharedEncodedBytes <= budget) {
        break;
      }
      this.sharedEncoded.delete(oldKey);
      this.sharedEncodedBytes -= old.length;
    }
  }
}

/**
 * Bodies up to this size are written with the head in one write (see `write`); past it copying
 * the body into a string costs more than the second chunk saves.
 */
const ONE_WRITE_MAX_BYTES = 4096;

function newViews(): EntryViews {
  return {
    headers: new Map<string, string[]>(),
    encoded: new Map<string, Buffer>(),
    latin1: new Map<string, string>(),
  };
}
