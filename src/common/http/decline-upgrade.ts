import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';

type ConnectionListener = (socket: Socket) => void;

interface ServingSocket extends Socket {
  /** The response Node is writing on this socket (an earlier pipelined one), if any. */
  _httpMessage?: { writableFinished: boolean; once(event: string, fn: () => void): void } | null;
}

/** Whether an `Upgrade` request asks for a WebSocket (the only upgrade the gateway proxies). */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  const upgrade = req.headers.upgrade;
  return upgrade !== undefined && /(?:^|,)\s*websocket\s*(?:,|$)/i.test(upgrade);
}

/**
 * Serves an `Upgrade` request the gateway does not take up (`Upgrade: h2c`, which `curl --http2`
 * sends over cleartext, `TLS/1.0`, anything but WebSocket) as the HTTP/1.1 request it also is,
 * as nginx does: RFC 9110 §7.8 lets a server ignore the offer.
 *
 * Node hands every request with `Connection: Upgrade` to the server's 'upgrade' listener and
 * detaches its parser from the socket. This puts the request head back in front of the socket's
 * data without the offer (`Upgrade`, `HTTP2-Settings` and their `Connection` tokens) and lets the
 * server adopt the socket again, so the request, its body and any later keep-alive requests go
 * through the normal path, routing and edge checks included. Nothing of the offer reaches an
 * upstream.
 *
 * @returns a function for the server's 'upgrade' event, given the server's own connection
 *   listener (captured before other 'connection' listeners, which count sockets, are added)
 */
export function declineUpgrade(
  server: Server,
): (req: IncomingMessage, socket: Socket, head: Buffer) => void {
  const nodeListener = server
    .listeners('connection')
    .find((fn) => fn.name === 'connectionListener') as ConnectionListener | undefined;
  const adopt: ConnectionListener =
    nodeListener === undefined
      ? (socket) => server.emit('connection', socket)
      : (socket) => nodeListener.call(server, socket);
  return (req, socket, head) => {
    const replay = (): void => {
      if (socket.destroyed) {
        return;
      }
      socket.unshift(Buffer.concat([Buffer.from(headWithoutOffer(req), 'latin1'), head]));
      adopt(socket);
    };
    // An earlier pipelined response still being written: the replayed request waits for it, as
    // the parser would have.
    const pending = (socket as ServingSocket)._httpMessage;
    if (pending && !pending.writableFinished) {
      pending.once('finish', replay);
      return;
    }
    replay();
  };
}

/** The request head as received, minus the upgrade offer. */
export function headWithoutOffer(req: IncomingMessage): string {
  let head = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (name === 'upgrade' || name === 'http2-settings') {
      continue;
    }
    let value = raw[i + 1];
    if (name === 'connection') {
      value = value
        .split(',')
        .map((token) => token.trim())
        .filter((token) => token !== '' && !/^(?:upgrade|http2-settings)$/i.test(token))
        .join(', ');
      if (value === '') {
        continue;
      }
    }
    head += `${raw[i]}: ${value}\r\n`;
  }
  return `${head}\r\n`;
}
