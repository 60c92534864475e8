import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildSecurityHeaders } from '../security/headers/security-headers';
import type { LiveEntry } from './cache-entry';
import { CacheResponder } from './cache-responder';
import { MemoryStore } from './memory-store';
import type { HookedExchange } from '../common/http/response-hook';
import { storedEntry as entry } from './testing/stored-entry';

/** What `res.writeHead` and `res.end` received, from a response that records instead of writing. */
function answer(
  responder: CacheResponder,
  stored: LiveEntry,
  edge: Pick<HookedExchange, 'responseHeaders' | 'dropUpstreamCors'> = {
    responseHeaders: undefined,
    dropUpstreamCors: false,
  },
): { chunk: unknown; encoding: unknown; headers: string[] } {
  const ended: { chunk: unknown; encoding: unknown; headers: string[] } = {
    chunk: undefined,
    encoding: undefined,
    headers: [],
  };
  const res = {
    destroyed: false,
    writableEnded: false,
    writeHead: (_status: number, headers: string[]) => {
      ended.headers = headers;
      return res;
    },
    end: (chunk: unknown, encoding: unknown) => {
      ended.chunk = chunk;
      ended.encoding = encoding;
    },
  } as unknown as ServerResponse;
  const exchange: HookedExchange = {
    res,
    requestId: 'r-1',
    tls: false,
    proxiedSecurity: buildSecurityHeaders(false),
    sink: res,
    status: 0,
    bytesOut: 0,
    cacheStatus: undefined,
    ...edge,
  };
  const req = { method: 'GET', headers: {} } as IncomingMessage;
  responder.serve(exchange, req, stored, 'HIT', 'hit');
  return ended;
}

/** A memory store and a responder on it (compression and security headers off). */
function setup(): { memory: MemoryStore; responder: CacheResponder } {
  const memory = new MemoryStore(1_000_000);
  return {
    memory,
    responder: new CacheResponder('gw', undefined, memory),
  };
}

describe('CacheResponder', () => {
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

  it('should write a small body as its latin1 string (the same bytes), made once and counted against the store', () => {
    const { memory, responder } = setup();
    memory.save('k', entry(bytes), '');
    const stored = memory.lookup('k', () => '', 0)!;
    const before = memory.usedBytes;

    const first = answer(responder, stored);
    expect(first.encoding).toBe('latin1');
    expect(Buffer.from(first.chunk as string, 'latin1').equals(bytes)).toBe(true);
    expect(memory.usedBytes).toBe(before + bytes.length);

    const second = answer(responder, stored);
    expect(second.chunk).toBe(first.chunk);
    expect(memory.usedBytes).toBe(before + bytes.length);
  });

  it('should not keep the string of a Redis entry, which is a new object on every read', () => {
    const { responder } = setup();
    const stored = entry(bytes, { sharedId: 'k\n\n1' });
    const first = answer(responder, stored);
    expect(Buffer.from(first.chunk as string, 'latin1').equals(bytes)).toBe(true);
    expect(stored.views?.latin1.size).toBe(0);
  });

  it('should write a body over 4 KiB as the Buffer it is', () => {
    const { responder } = setup();
    const big = Buffer.alloc(5000, 0xe9);
    const ended = answer(responder, entry(big));
    expect(ended.chunk).toBe(big);
  });

  it("should leave out a stored answer's Access-Control-* headers when the CORS policy refused the origin", () => {
    const { responder } = setup();
    const stored = entry('ok', {
      headers: [
        'content-type',
        'text/plain',
        'Access-Control-Allow-Origin',
        '*',
        'access-control-allow-credentials',
        'true',
      ],
    });
    const names = (headers: string[]): string[] =>
      headers.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());

    const kept = answer(responder, stored);
    expect(names(kept.headers)).toContain('access-control-allow-origin');

    const refused = answer(responder, stored, {
      responseHeaders: ['vary', 'Origin'],
      dropUpstreamCors: true,
    });
    expect(names(refused.headers).filter((n) => n.startsWith('access-control-'))).toEqual([]);
    expect(refused.headers).toEqual(expect.arrayContaining(['vary', 'Origin', 'content-type']));
  });
});
