import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { AdminError } from './admin-error';
import { readJsonBody } from './admin-json-body.interceptor';

function request(headers: Record<string, string>, chunks: string[]): IncomingMessage {
  return Object.assign(Readable.from(chunks.map((c) => Buffer.from(c))), {
    headers,
  }) as unknown as IncomingMessage;
}

async function status(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error instanceof AdminError ? error.status : -1;
  }
}

describe('readJsonBody', () => {
  it('should parse a JSON body, and treat no body as undefined', async () => {
    await expect(
      readJsonBody(
        request({ 'content-type': 'application/json', 'content-length': '9' }, ['{"a":', '1}']),
        100,
      ),
    ).resolves.toEqual({ a: 1 });
    await expect(readJsonBody(request({}, []), 100)).resolves.toBeUndefined();
    await expect(
      readJsonBody(
        request(
          { 'content-type': 'application/merge-patch+json', 'transfer-encoding': 'chunked' },
          ['[1]'],
        ),
        100,
      ),
    ).resolves.toEqual([1]);
  });

  it('should answer 415, 413 and 400 for the wrong type, too much and not JSON', async () => {
    expect(
      await status(
        readJsonBody(request({ 'content-type': 'text/plain', 'content-length': '2' }, ['{}']), 100),
      ),
    ).toBe(415);
    expect(await status(readJsonBody(request({ 'content-length': '2' }, ['{}']), 100))).toBe(415);
    expect(
      await status(
        readJsonBody(
          request({ 'content-type': 'application/json', 'content-length': '101' }, ['x']),
          100,
        ),
      ),
    ).toBe(413);
    // A lying or absent length is caught while reading.
    expect(
      await status(
        readJsonBody(
          request({ 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, [
            'x'.repeat(60),
            'x'.repeat(60),
          ]),
          100,
        ),
      ),
    ).toBe(413);
    expect(
      await status(
        readJsonBody(
          request({ 'content-type': 'application/json', 'content-length': '3' }, ['{x}']),
          100,
        ),
      ),
    ).toBe(400);
  });
});
