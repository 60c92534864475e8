import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * One upstream that misbehaves on demand, chosen by the first path segment it receives:
 *
 * - `/ok/...`        200 with a small JSON body (keep-alive)
 * - `/hang/...`      reads the request, never answers
 * - `/stall/...`     sends headers and 3 of 100 promised body bytes, then goes silent
 * - `/reset/...`     sends headers and 10 of 1000 body bytes, then resets the TCP connection
 * - `/malformed/<v>` writes a broken response: `status` (bad status line), `cl` (non-numeric
 *                    Content-Length), `clte` (Content-Length and Transfer-Encoding), `header`
 *                    (header line without a colon), `nul` (NUL byte in a header value)
 * - `/stale/...`     answers the first request on a socket normally (keep-alive), then destroys
 *                    the socket when a second request arrives on it, without answering: what a
 *                    keep-alive socket closed by the upstream looks like to a client that reused it
 * - `/fin/...`       answers, then half-closes the socket without saying `Connection: close`
 * - `/status/<n>`    answers status n
 * - `/short/...`     promises 100 body bytes, sends 10, then closes cleanly (FIN)
 * - `/poison/...`    answers, then writes a second, unrequested response on the same socket
 * - `/bigheaders/...` answers with 100 KB of response headers
 * - `/early/...`     answers 401 and closes without reading the request body
 *
 * Upgrade requests (counted as `UPGRADE path`) follow the same modes: `hang` never answers,
 * `status` refuses with 403, `reset` switches protocols then resets, anything else echoes.
 *
 * Every request is counted by path before anything else happens, so tests can assert exactly
 * how many times a request reached the upstream.
 */
export interface FaultUpstream {
  server: Server;
  port: number;
  url: string;
  /** Requests received, in order: `METHOD path`. */
  readonly hits: string[];
  count(prefix: string, method?: string): number;
  /** Stops listening and drops every connection (an upstream crash). */
  stop(): Promise<void>;
  /** Listens again on the same port (an upstream restart). */
  start(): Promise<void>;
  close(): Promise<void>;
}

const BODY = JSON.stringify({ ok: true });

function handle(
  req: IncomingMessage,
  res: ServerResponse,
  perSocket: WeakMap<Socket, number>,
): void {
  const socket = req.socket;
  const seen = (perSocket.get(socket) ?? 0) + 1;
  perSocket.set(socket, seen);
  const [, mode, variant] = (req.url ?? '/').split(/[/?]/);
  switch (mode) {
    case 'hang':
      return;
    case 'stall':
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
      res.write('abc');
      return;
    case 'reset':
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' });
      res.write('0123456789', () => setTimeout(() => socket.resetAndDestroy(), 20));
      return;
    case 'malformed': {
      const raw: Record<string, string> = {
        status: 'HTTP/1.1 2xx Weird\r\ncontent-length: 2\r\n\r\nok',
        cl: 'HTTP/1.1 200 OK\r\ncontent-length: abc\r\n\r\nok',
        clte: 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n',
        header: 'HTTP/1.1 200 OK\r\nthis is not a header\r\ncontent-length: 2\r\n\r\nok',
        nul: 'HTTP/1.1 200 OK\r\nx-bad: a\0b\r\ncontent-length: 2\r\n\r\nok',
      };
      socket.end(raw[variant] ?? raw.status);
      return;
    }
    case 'stale':
      if (seen > 1) {
        socket.destroy();
        return;
      }
      break;
    case 'fin':
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': BODY.length });
      res.end(BODY, () => socket.end());
      return;
    case 'short':
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
      res.write('0123456789', () => socket.end());
      return;
    case 'poison':
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': BODY.length });
      res.end(BODY, () =>
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 6\r\nx-poison: 1\r\n\r\nPOISON'),
      );
      return;
    case 'bigheaders':
      res.writeHead(200, {
        'content-length': BODY.length,
        ...Object.fromEntries(
          Array.from({ length: 100 }, (_, i) => [`x-big-${i}`, 'v'.repeat(1000)]),
        ),
      });
      res.end(BODY);
      return;
    case 'early':
      res.writeHead(401, { 'content-type': 'application/json', connection: 'close' });
      res.end(BODY, () => socket.destroy());
      return;
    case 'status': {
      const status = Number(variant) || 500;
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': BODY.length });
      res.end(BODY);
      return;
    }
    default:
      break;
  }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': BODY.length });
  res.end(BODY);
}

export async function startFaultUpstream(port = 0): Promise<FaultUpstream> {
  const hits: string[] = [];
  const perSocket = new WeakMap<Socket, number>();
  const upgraded = new Set<Socket>();
  let server = makeServer();
  function makeServer(): Server {
    const s = createServer((req, res) => {
      hits.push(`${req.method} ${req.url}`);
      // Bodies are read (and dropped) so keep-alive works for uploads too.
      req.resume();
      handle(req, res, perSocket);
    });
    s.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      hits.push(`UPGRADE ${req.url}`);
      // Upgraded sockets leave the server's bookkeeping: closeAllConnections() misses them.
      upgraded.add(socket);
      socket.once('close', () => upgraded.delete(socket));
      socket.on('error', () => undefined);
      const [, mode] = (req.url ?? '/').split(/[/?]/);
      if (mode === 'hang') {
        return;
      }
      if (mode === 'status') {
        socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 2\r\nconnection: close\r\n\r\nno');
        return;
      }
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
      );
      if (mode === 'reset') {
        setTimeout(() => socket.resetAndDestroy(), 20);
        return;
      }
      socket.pipe(socket);
    });
    s.keepAliveTimeout = 60_000;
    return s;
  }
  const listen = (p: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(p, '127.0.0.1', () => resolve());
    });
  await listen(port);
  const chosen = (server.address() as AddressInfo).port;
  const stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      for (const socket of upgraded) {
        socket.destroy();
      }
      server.close(() => resolve());
    });
  return {
    get server() {
      return server;
    },
    port: chosen,
    url: `http://127.0.0.1:${chosen}`,
    hits,
    count: (prefix, method) =>
      hits.filter((h) => {
        const [m, p] = h.split(' ');
        return p.startsWith(prefix) && (method === undefined || m === method);
      }).length,
    stop,
    async start() {
      server = makeServer();
      await listen(chosen);
    },
    close: async () => {
      if (server.listening) {
        await stop();
      }
    },
  };
}
