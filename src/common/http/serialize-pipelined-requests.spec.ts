import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { serializePipelinedRequests } from './serialize-pipelined-requests';

/** Writes `payload` on one connection and collects everything until the server closes it. */
function exchange(port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let out = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (out += d));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
    socket.write(payload);
  });
}

describe('serializePipelinedRequests', () => {
  let server: Server;
  let port: number;
  let running = 0;
  let peak = 0;
  let handled: string[] = [];

  beforeEach(async () => {
    running = 0;
    peak = 0;
    handled = [];
    // An asynchronous handler, like the proxy: without serialisation every parsed request runs at once.
    server = createServer((req, res) => {
      peak = Math.max(peak, ++running);
      handled.push(req.url ?? '');
      setImmediate(() => {
        running--;
        res.end(`${req.url}\n`);
      });
    });
    serializePipelinedRequests(server, 4);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('should run pipelined requests one at a time, in order, across many packets', async () => {
    const n = 3000;
    let payload = '';
    for (let i = 0; i < n; i++) {
      // Padded so the pipeline spans several reads and the pause/resume path runs.
      payload += `GET /r${i} HTTP/1.1\r\nHost: x\r\nX-Pad: ${'p'.repeat(100)}\r\n${i === n - 1 ? 'Connection: close\r\n' : ''}\r\n`;
    }
    let pauses = 0;
    server.once('connection', (socket: Socket) => {
      const pause = socket.pause.bind(socket);
      socket.pause = () => {
        pauses++;
        return pause();
      };
    });
    const out = await exchange(port, payload);
    const bodies = out.match(/\/r\d+\n/g) ?? [];
    expect(bodies).toEqual(Array.from({ length: n }, (_, i) => `/r${i}\n`));
    expect(handled).toHaveLength(n);
    expect(peak).toBe(1);
    // The queue filled up and the connection stopped being read, then resumed.
    expect(pauses).toBeGreaterThan(0);
  });

  it('should leave separate connections concurrent', async () => {
    await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        exchange(port, `GET /c${i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
      ),
    );
    expect(handled.sort()).toEqual(['/c0', '/c1', '/c2', '/c3', '/c4']);
  });

  it('should drop the queue of a connection that closes, starting none of it', async () => {
    server.removeAllListeners('request');
    const started: string[] = [];
    server.on('request', (req) => started.push(req.url ?? '')); // never answers
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 100));
    socket.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect(started).toEqual(['/a']);
  });
});
