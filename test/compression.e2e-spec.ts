import { brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startGateway, testConfig, type TestGateway } from './fixtures/gateway';
import { send } from './fixtures/http';
import { startUpstream, type TestUpstream } from './fixtures/upstream';

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

let handler: Handler;
let upstream: TestUpstream;
/** Compression only (no cache). */
let plain: TestGateway;
/** Cache and compression together. */
let cached: TestGateway;

const text = JSON.stringify({
  items: Array.from({ length: 200 }, (_, i) => ({ id: i, name: `item ${i}` })),
});
let n = 0;
const fresh = () => `/z/${++n}`;

function reply(
  headers: Record<string, string>,
  body: string | Buffer = text,
  status = 200,
): Handler {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body);
  };
}

function decode(encoding: string | undefined, body: Buffer): string {
  if (encoding === 'gzip') {
    return gunzipSync(body).toString();
  }
  if (encoding === 'br') {
    return brotliDecompressSync(body).toString();
  }
  return body.toString();
}

beforeAll(async () => {
  upstream = await startUpstream((req, res, body) => handler(req, res, body));
  const base = testConfig([]);
  plain = await startGateway(
    testConfig([{ prefix: '/', upstreams: [upstream.url] }], {
      cache: { ...base.cache, enabled: false, compression: true, compressionMinBytes: 1024 },
    }),
  );
  cached = await startGateway(
    testConfig(
      [{ prefix: '/', upstreams: [upstream.url], cache: { enabled: true, allowSetCookie: false } }],
      {
        cache: { ...base.cache, enabled: true, compression: true, compressionMinBytes: 1024 },
      },
    ),
  );
});

afterAll(async () => {
  await plain.close();
  await cached.close();
  await upstream.close();
});

describe('compression negotiation (streaming, no cache)', () => {
  const matrix: [string | undefined, string | undefined][] = [
    ['gzip', 'gzip'],
    ['br', 'br'],
    ['gzip, deflate, br', 'br'],
    ['br;q=0.5, gzip;q=0.8', 'gzip'],
    ['gzip;q=0, br;q=0', undefined],
    ['identity;q=0, gzip', 'gzip'],
    ['*', 'br'],
    ['*;q=0.1, br;q=0', 'gzip'],
    ['deflate', undefined],
    ['', undefined],
    [undefined, undefined],
  ];
  it.each(matrix)('Accept-Encoding %p -> %p', async (accept, expected) => {
    handler = reply({});
    const r = await send(plain.url, fresh(), {
      headers: accept === undefined ? {} : { 'accept-encoding': accept },
    });
    expect(r.status).toBe(200);
    expect(r.headers['content-encoding']).toBe(expected);
    expect(decode(expected, r.body)).toBe(text);
    if (expected !== undefined) {
      expect(r.headers['content-length']).toBeUndefined();
      expect(r.headers.vary).toMatch(/accept-encoding/i);
    }
  });

  it('a response too small to compress keeps its Vary exactly as sent', async () => {
    for (const vary of [undefined, 'Origin', 'origin,  accept-language']) {
      handler = (_req, res) => {
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': '2',
          ...(vary === undefined ? {} : { vary }),
        });
        res.end('{}');
      };
      const r = await send(plain.url, fresh(), { headers: { 'accept-encoding': 'gzip' } });
      expect(r.headers.vary).toBe(vary);
      expect(r.headers['content-encoding']).toBeUndefined();
    }
  });

  it('keeps the upstream Vary and adds Accept-Encoding; strong ETag becomes weak', async () => {
    handler = reply({ vary: 'Origin', etag: '"e1"' });
    const r = await send(plain.url, fresh(), { headers: { 'accept-encoding': 'gzip' } });
    expect(r.headers.vary).toBe('Origin, Accept-Encoding');
    expect(r.headers.etag).toBe('W/"e1"');
  });

  it('never recompresses an already-encoded body', async () => {
    const gz = gzipSync(Buffer.from(text));
    handler = reply({ 'content-encoding': 'gzip', 'content-length': String(gz.length) }, gz);
    const r = await send(plain.url, fresh(), { headers: { 'accept-encoding': 'br' } });
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(r.body.equals(gz)).toBe(true);
  });

  it('not for Range requests, no-transform, HEAD, 204, small bodies or non-compressible types', async () => {
    handler = reply({});
    expect(
      (
        await send(plain.url, fresh(), {
          headers: { 'accept-encoding': 'gzip', range: 'bytes=0-10' },
        })
      ).headers['content-encoding'],
    ).toBeUndefined();
    handler = reply({ 'cache-control': 'no-transform' });
    expect(
      (await send(plain.url, fresh(), { headers: { 'accept-encoding': 'gzip' } })).headers[
        'content-encoding'
      ],
    ).toBeUndefined();
    handler = reply({ 'content-length': String(Buffer.byteLength(text)) });
    const head = await send(plain.url, fresh(), {
      method: 'HEAD',
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(head.headers['content-encoding']).toBeUndefined();
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(text)));
    handler = (_req, res) => {
      res.writeHead(204, { 'content-type': 'application/json' });
      res.end();
    };
    expect(
      (await send(plain.url, fresh(), { headers: { 'accept-encoding': 'gzip' } })).status,
    ).toBe(204);
    handler = reply({ 'content-length': '20' }, '{"small":"payload!"}');
    const small = await send(plain.url, fresh(), { headers: { 'accept-encoding': 'gzip' } });
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(small.text).toBe('{"small":"payload!"}');
    for (const type of [
      'image/png',
      'application/zip',
      'text/event-stream',
      'application/octet-stream',
    ]) {
      handler = reply({ 'content-type': type });
      const r = await send(plain.url, fresh(), { headers: { 'accept-encoding': 'gzip' } });
      expect(r.headers['content-encoding']).toBeUndefined();
      expect(r.text).toBe(text);
    }
    for (const type of [
      'text/html; charset=utf-8',
      'application/problem+json',
      'image/svg+xml',
      'application/javascript',
    ]) {
      handler = reply({ 'content-type': type });
      const r = await send(plain.url, fresh(), { headers: { 'accept-encoding': 'gzip' } });
      expect(r.headers['content-encoding']).toBe('gzip');
    }
  });

  it('streams a large chunked body through the compressor with backpressure intact', async () => {
    const chunk = 'abcdefghij'.repeat(10_000);
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      let i = 0;
      const pump = (): void => {
        while (i < 100) {
          i++;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    };
    const r = await send(plain.url, fresh(), { headers: { 'accept-encoding': 'gzip' } });
    expect(r.headers['content-encoding']).toBe('gzip');
    const out = gunzipSync(r.body);
    expect(out.length).toBe(chunk.length * 100);
    expect(r.body.length).toBeLessThan(out.length / 20);
  });
});

describe('compression with the cache (identity stored, compressed on the way out)', () => {
  it('one stored entry serves gzip, br and identity clients; the cache keeps identity', async () => {
    handler = reply({ 'cache-control': 'max-age=60' });
    const p = fresh();
    const first = await send(cached.url, p, { headers: { 'accept-encoding': 'gzip' } });
    expect(first.headers['x-cache']).toBe('MISS');
    expect(first.headers['content-encoding']).toBe('gzip');
    const br = await send(cached.url, p, { headers: { 'accept-encoding': 'br' } });
    expect(br.headers['x-cache']).toBe('HIT');
    expect(br.headers['content-encoding']).toBe('br');
    expect(decode('br', br.body)).toBe(text);
    const gz = await send(cached.url, p, { headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers['x-cache']).toBe('HIT');
    expect(decode('gzip', gz.body)).toBe(text);
    const id = await send(cached.url, p);
    expect(id.headers['content-encoding']).toBeUndefined();
    expect(id.headers['content-length']).toBe(String(Buffer.byteLength(text)));
    expect(id.headers.vary).toMatch(/accept-encoding/i);
    expect(id.text).toBe(text);
    expect(upstream.requests.filter((r) => r.url === p)).toHaveLength(1);
  });

  it('a stored body too small to compress is served, MISS and HIT, with the Vary as sent', async () => {
    handler = (_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        'cache-control': 'max-age=60',
        'content-length': '14',
        vary: 'Origin',
      });
      res.end('{"small":true}');
    };
    const p = fresh();
    const miss = await send(cached.url, p, { headers: { 'accept-encoding': 'gzip' } });
    const hit = await send(cached.url, p, { headers: { 'accept-encoding': 'gzip' } });
    expect(miss.headers.vary).toBe('Origin');
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.headers.vary).toBe('Origin');
  });

  it('an upstream-encoded stored body is served as stored', async () => {
    const gz = gzipSync(Buffer.from(text));
    handler = reply(
      { 'cache-control': 'max-age=60', 'content-encoding': 'gzip', vary: 'Accept-Encoding' },
      gz,
    );
    const p = fresh();
    await send(cached.url, p, { headers: { 'accept-encoding': 'gzip' } });
    const hit = await send(cached.url, p, { headers: { 'accept-encoding': 'gzip' } });
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.headers['content-encoding']).toBe('gzip');
    expect(hit.body.equals(gz)).toBe(true);
  });
});
