import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

const BUSY = Symbol('gateway.pipeline-busy');
const QUEUE = Symbol('gateway.pipeline-queue');
const OWNER = Symbol('gateway.pipeline-socket');

interface PipelinedSocket extends Socket {
  [BUSY]?: boolean;
  [QUEUE]?: [IncomingMessage, ServerResponse][];
  /** Node's own "paused because the client is not keeping up" flag (see _http_server.js). */
  _paused?: boolean;
  parser?: { pause(): void; resume(): void } | null;
}

type Emit = (event: string | symbol, ...args: unknown[]) => boolean;

/**
 * Runs the requests pipelined on one connection one at a time, as nginx and Envoy do. Node
 * emits `request` for every request it parses from a chunk at once, and its own flood guard
 * only pauses a connection once responses pile up unwritten; a proxy answers asynchronously, so
 * without this one connection could put hundreds of requests in flight upstream at once (one
 * 64 KiB packet of tiny GETs is ~500 requests). Responses were always written in order; now the
 * requests run in order too.
 *
 * At most `maxQueued` requests wait per connection before the socket stops being read; the
 * requests already parsed from the current packet still queue (bounded by the packet size).
 */
export function serializePipelinedRequests(server: Server, maxQueued = 16): void {
  const emit = server.emit.bind(server) as Emit;

  const run = (socket: PipelinedSocket, req: IncomingMessage, res: ServerResponse): void => {
    socket[BUSY] = true;
    (res as ServerResponse & { [OWNER]?: PipelinedSocket })[OWNER] = socket;
    res.once('close', onResponseClose);
    emit('request', req, res);
  };

  function onResponseClose(this: ServerResponse & { [OWNER]?: PipelinedSocket }): void {
    const socket = this[OWNER]!;
    const queue = socket[QUEUE];
    const next = queue?.shift();
    if (next === undefined || socket.destroyed) {
      // Queued requests of a closed connection are never started: Node never closes their
      // responses, so nothing they acquired would ever be released.
      socket[BUSY] = false;
      socket[QUEUE] = undefined;
      return;
    }
    if (socket._paused && queue!.length < maxQueued) {
      socket._paused = false;
      socket.parser?.resume();
      socket.resume();
    }
    run(socket, next[0], next[1]);
  }

  server.emit = function (this: Server, event: string | symbol, ...args: unknown[]): boolean {
    if (event !== 'request') {
      return emit(event, ...args);
    }
    const req = args[0] as IncomingMessage;
    const socket = req.socket as PipelinedSocket;
    if (!socket[BUSY]) {
      run(socket, req, args[1] as ServerResponse);
      return true;
    }
    const queue = (socket[QUEUE] ??= []);
    queue.push([req, args[1] as ServerResponse]);
    if (queue.length >= maxQueued && !socket._paused) {
      // Node pauses the parser after the current packet when it sees this flag.
      socket._paused = true;
      socket.pause();
    }
    return true;
  } as Server['emit'];
}
