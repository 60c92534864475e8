import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

const QUEUE = Symbol('gateway.pipeline-queue');
const OWNER = Symbol('gateway.pipeline-socket');

interface PipelinedSocket extends Socket {
  /** Requests waiting for the one in progress; present only while this connection pipelines. */
  [QUEUE]?: [IncomingMessage, ServerResponse][];
  /** The response Node is writing on this socket (an earlier pipelined one, if any). */
  _httpMessage?: ServerResponse | null;
  /** Node's own "paused because the client is not keeping up" flag (see _http_server.js). */
  _paused?: boolean;
  parser?: { pause(): void; resume(): void } | null;
}

type OwnedResponse = ServerResponse & { [OWNER]?: PipelinedSocket };
type Emit = (event: string | symbol, ...args: unknown[]) => boolean;

/**
 * Runs the requests pipelined on one connection one at a time, as nginx and Envoy do. Node
 * emits `request` for every request it parses from a packet at once, and its own flood guard
 * only pauses a connection once responses pile up unwritten; a proxy answers asynchronously, so
 * without this one connection could put hundreds of requests in flight upstream at once (one
 * 64 KiB packet of tiny GETs is ~500 requests). Responses were always written in order; now the
 * requests run in order too.
 *
 * A connection that does not pipeline costs one property read per request. At most `maxQueued`
 * requests wait per connection before the socket stops being read; the requests already parsed
 * from the current packet still queue (bounded by the packet size).
 */
export function serializePipelinedRequests(server: Server, maxQueued = 16): void {
  const emit = server.emit.bind(server) as Emit;

  /** Starts the next queued request once the one in progress is over. */
  const after = (res: OwnedResponse, socket: PipelinedSocket): void => {
    res[OWNER] = socket;
    res.once('close', onResponseClose);
  };

  function onResponseClose(this: OwnedResponse): void {
    const socket = this[OWNER]!;
    const queue = socket[QUEUE];
    const next = queue?.shift();
    if (next === undefined || socket.destroyed) {
      // Queued requests of a closed connection are never started: Node never closes their
      // responses, so nothing they acquired would ever be released.
      socket[QUEUE] = undefined;
      return;
    }
    if (socket._paused && queue!.length < maxQueued) {
      socket._paused = false;
      socket.parser?.resume();
      socket.resume();
    }
    if (queue!.length > 0) {
      after(next[1], socket);
    } else {
      // The pipeline is drained: this connection is back to the cheap path.
      socket[QUEUE] = undefined;
    }
    emit('request', next[0], next[1]);
  }

  server.emit = function (this: Server, event: string | symbol, ...args: unknown[]): boolean {
    if (event !== 'request') {
      return emit(event, ...args);
    }
    const req = args[0] as IncomingMessage;
    const res = args[1] as ServerResponse;
    const socket = req.socket as PipelinedSocket;
    let queue = socket[QUEUE];
    if (queue === undefined) {
      const current = socket._httpMessage;
      if (current === res || current === null || current === undefined) {
        return emit('request', req, res);
      }
      // An earlier request on this connection is still being answered.
      queue = socket[QUEUE] = [];
      after(current, socket);
    }
    queue.push([req, res]);
    if (queue.length >= maxQueued && !socket._paused) {
      // Node pauses the parser after the current packet when it sees this flag.
      socket._paused = true;
      socket.pause();
    }
    return true;
  } as Server['emit'];
}
