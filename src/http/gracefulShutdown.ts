import type { Server, ServerResponse } from 'node:http';
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
  const inFlight = new Set<ServerResponse>();
  let draining = false;

  // Prepended so it runs before the app answers: no request that starts now keeps its connection.
  server.prependListener('request', (_req, res: ServerResponse) => {
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
    if (draining && !res.headersSent) res.setHeader('Connection', 'close');
  });

  let stopping: Promise<number> | undefined;
  return (signal) => {
    stopping ??= (async () => {
      log.info({ signal, inFlight: inFlight.size, streams: deps.streamCount() }, 'shutting down');
      deps.beginDrain();
      if (deps.delayMs > 0) await sleep(deps.delayMs);
      draining = true;
      for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
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
        log.warn({ inFlight: inFlight.size, graceSeconds: deps.graceMs / 1000 }, 'grace period over; cutting the remaining connections');
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
