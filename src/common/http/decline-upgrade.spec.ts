import type { IncomingMessage } from 'node:http';
import { headWithoutOffer, isWebSocketUpgrade } from './decline-upgrade';

const request = (rawHeaders: string[], method = 'GET', url = '/x'): IncomingMessage => {
  const headers: Record<string, string> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    headers[rawHeaders[i].toLowerCase()] = rawHeaders[i + 1];
  }
  return { method, url, httpVersion: '1.1', rawHeaders, headers } as unknown as IncomingMessage;
};

describe('declining an upgrade offer', () => {
  it('should tell WebSocket upgrades from the others', () => {
    expect(isWebSocketUpgrade(request(['Upgrade', 'websocket']))).toBe(true);
    expect(isWebSocketUpgrade(request(['Upgrade', 'h2c, WebSocket']))).toBe(true);
    expect(isWebSocketUpgrade(request(['Upgrade', 'h2c']))).toBe(false);
    expect(isWebSocketUpgrade(request(['Upgrade', 'websocketx']))).toBe(false);
    expect(isWebSocketUpgrade(request([]))).toBe(false);
  });

  it('should rebuild the head without the offer, keeping every other header as sent', () => {
    const head = headWithoutOffer(
      request(
        [
          'Host',
          'a.test',
          'Connection',
          'Upgrade, HTTP2-Settings, keep-alive',
          'Upgrade',
          'h2c',
          'HTTP2-Settings',
          'AAMAAABkAAQCAAAAAAIAAAAA',
          'Content-Length',
          '3',
          'X-Many',
          'a',
          'X-Many',
          'b',
        ],
        'POST',
        '/p?q=1',
      ),
    );

    expect(head).toBe(
      'POST /p?q=1 HTTP/1.1\r\nHost: a.test\r\nConnection: keep-alive\r\nContent-Length: 3\r\n' +
        'X-Many: a\r\nX-Many: b\r\n\r\n',
    );
    expect(headWithoutOffer(request(['Connection', 'upgrade', 'Upgrade', 'TLS/1.0']))).toBe(
      'GET /x HTTP/1.1\r\n\r\n',
    );
  });
});
