import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { freeParser } from '_http_common';

/**
 * Sends a response's head through node:http, then takes its connection away from node:http for
 * good, as Node itself does for an upgraded connection: the HTTP parser goes back to Node's pool,
 * node:http's listeners leave the socket, and the request and response objects are let go. What
 * the caller then writes on the socket is the body, delimited by the connection's close
 * (`Connection: close`, no chunked framing: HTTP/1.0 and 1.1 alike). Why: a long-lived event
 * stream held through node:http keeps its parser, request, response and per-connection closures
 * for hours; a bare node:http server holding streams read 15.1 KiB of RSS per stream (5.9 KiB of
 * heap), 2.1 KiB (1.4 KiB of heap) once they are taken this way (`npx tsx test/bench/sseMemory.ts
 * targets=bare,bare-taken`, 5,000 streams; README "What a stream keeps beyond node:http").
 *
 * Only for a response that canTakeConnection allows. Returns the socket, now the caller's: it
 * must listen for 'error' and 'close', end or destroy it, and read or discard what the client still
 * sends ('data' and 'end' have no listener, and the socket is paused).
 *
 * For the HTTP layer the response is over: it emits 'close' (as Node does once a response has
 * finished), so whoever tracks open responses lets go of it; it never emits 'finish'.
 *
 * Internal to Node, pinned by test/events/takeConnection.test.ts: the socket's `parser`,
 * `_http_common`'s `freeParser` (what Node's own upgrade path calls), which events node:http
 * listens to on the socket (all of them removed here), and its per-socket listener wrappers.
 */
/**
 * Whether `res` may take its connection: it holds it (`res.socket === req.socket`: not so while it
 * is queued behind an earlier response on a pipelined connection), and no request came after `req`
 * on it. A request pipelined behind it would wait forever for a response node:http could never
 * send once the connection is taken; its request and response would stay in memory, and an
 * open-request count would never reach zero. The latest request is the parser's `incoming`
 * (internal, pinned by test/events/pipelinedStreams.test.ts).
 */
export function canTakeConnection(req: IncomingMessage, res: ServerResponse): boolean {
  return res.socket === req.socket && (req.socket as SocketWithParser).parser?.incoming === req;
}

interface SocketWithParser extends Socket {
  parser?: { incoming: IncomingMessage | null } | null;
}

export function takeConnection(req: IncomingMessage, res: ServerResponse, status: number, headers: OutgoingHttpHeaders): Socket {
  const socket = req.socket;
  // Without a length and with chunked framing refused, node:http writes a close-delimited head
  // (it then treats the response as the connection's last).
  res.removeHeader('Transfer-Encoding');
  res.writeHead(status, { ...headers, Connection: 'close' });
  res.flushHeaders();
  res.detachSocket(socket);
  for (const event of NODE_HTTP_SOCKET_EVENTS) socket.removeAllListeners(event);
  // Not before the parser has returned: called from a 'request' listener, we are inside its run over
  // the request's bytes, and a parser freed there is put back on the server's connection list.
  process.nextTick(letGo, socket, req);
  socket.setTimeout(0);
  socket.pause();
  res.emit('close');
  return socket;
}

/** What node:http's server listens to on each connection (lib/_http_server.js, connectionListenerInternal). */
export const NODE_HTTP_SOCKET_EVENTS = ['data', 'end', 'close', 'drain', 'error', 'timeout', 'resume', 'pause'] as const;

function letGo(socket: Socket, req: IncomingMessage): void {
  freeParser((socket as SocketWithParser).parser, req, socket);
  // node:http wraps these three in closures of each socket's own (to notice a 'data' listener while
  // its parser reads the socket); the wrappers put the plain methods back at their next call once
  // the parser is gone. Done here, so no stream keeps three closures (~0.3 KiB of heap each stream).
  socket.on = Socket.prototype.on;
  socket.addListener = Socket.prototype.addListener;
  socket.prependListener = Socket.prototype.prependListener;
}
