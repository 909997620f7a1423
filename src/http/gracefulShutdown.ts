import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { describeError, type Logger } from '../logger.js';

export interface GracefulShutdownDeps {
  server: Server;
  /** Turns readiness off (`/readyz` 503) so the load balancer stops sending new work. */
  beginDrain(): void;
  /** Open event streams (for the log: a stream's response has left node:http once its head was sent). */
  streamCount(): number;
  /** Ends every event stream with a `retry` hint and closes its connection. */
  endStreams(): void;
  /** Closes Redis, the database pool and background work. */
  closeServices(): Promise<void>;
  /** Readiness off but still serving, so the load balancer notices before we stop accepting. */
  delayMs: number;
  /** Time for in-flight requests to finish once we stop accepting. */
  graceMs: number;
  log: Logger;
}

/**
 * SIGTERM handling, in the order that loses no work: readiness off → (delay) → stop accepting →
 * in-flight requests finish on their open connections (answered with `Connection: close`) → event
 * streams end with a `retry` hint and their connections close, so browsers reconnect to another
 * replica → idle keep-alive connections close → Redis and the database close → "stopped".
 * Streams end only after the in-flight requests, so events those requests publish still reach them.
 * Resolves with the exit code: 0, or 1 when the grace period ran out and connections were cut.
 */
export function createGracefulShutdown(deps: GracefulShutdownDeps): (signal: string) => Promise<number> {
  const { server, log } = deps;
  // Responses in flight, by connection. A response leaves at its 'close'; those of a connection
  // that closes leave with it: node:http never emits 'close' (nor 'finish') for a response queued
  // behind an unfinished one on a pipelined connection, so they would stay here for good, each
  // holding its request and response, and shutdown would wait out its grace period.
  const inFlight = new Map<Socket, Set<ServerResponse>>();
  const inFlightCount = () => {
    let count = 0;
    for (const responses of inFlight.values()) count += responses.size;
    return count;
  };
  let draining = false;

  server.on('connection', (socket: Socket) => socket.once('close', () => inFlight.delete(socket)));
  // Prepended so it runs before the app answers: no request that starts now keeps its connection.
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    let responses = inFlight.get(socket);
    if (!responses) inFlight.set(socket, (responses = new Set()));
    responses.add(res);
    res.once('close', () => {
      responses.delete(res);
      if (responses.size === 0 && inFlight.get(socket) === responses) inFlight.delete(socket);
    });
    if (draining && !res.headersSent) res.setHeader('Connection', 'close');
  });

  let stopping: Promise<number> | undefined;
  return (signal) => {
    stopping ??= (async () => {
      log.info({ signal, inFlight: inFlightCount(), streams: deps.streamCount() }, 'shutting down');
      deps.beginDrain();
      if (deps.delayMs > 0) await sleep(deps.delayMs);
      draining = true;
      for (const responses of inFlight.values()) for (const res of responses) if (!res.headersSent) res.setHeader('Connection', 'close');
      const deadline = Date.now() + deps.graceMs;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();

      // An open stream is no response in flight: its connection was taken from node:http
      // (events/takeConnection.ts), which emitted the response's 'close'.
      let requestsDone = await until(() => inFlight.size === 0, deadline);
      deps.endStreams();
      server.closeIdleConnections();
      const connectionsDone = await Promise.race([closed.then(() => true), sleep(Math.max(deadline - Date.now(), 0)).then(() => false)]);
      requestsDone &&= connectionsDone;
      if (!requestsDone) {
        log.warn({ inFlight: inFlightCount(), graceSeconds: deps.graceMs / 1000 }, 'grace period over; cutting the remaining connections');
        server.closeAllConnections();
      }
      try {
        await deps.closeServices();
      } catch (err) {
        log.warn({ err: describeError(err) }, 'closing Redis or the database failed');
      }
      log.info({ clean: requestsDone }, 'stopped');
      return requestsDone ? 0 : 1;
    })();
    return stopping;
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `done` until it holds (true) or the deadline passes (false). Shutdown only: cheap enough. */
async function until(done: () => boolean, deadline: number): Promise<boolean> {
  while (!done()) {
    if (Date.now() >= deadline) return false;
    await sleep(25);
  }
  return true;
}
