import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { canTakeConnection, takeConnection } from './takeConnection.js';
import { describeError, type Logger } from '../logger.js';
import type { Revocation } from '../sessions/revocation.js';
import { createEvent, topics, type AppEvent, type EventBus, type Listener } from './eventBus.js';

export interface SseHub {
  /**
   * Serves `GET /api/events` for a live session until the client leaves or the session ends.
   * `headers` join the stream's own response headers. Throws a 503 `HttpError` before answering
   * when the bus cannot deliver.
   */
  open(req: IncomingMessage, res: ServerResponse, session: StreamOwner, headers?: Readonly<Record<string, string>>): Promise<void>;
  /** Open streams on this replica. */
  readonly size: number;
  /**
   * Ends every open stream with a `retry` hint and closes its connection, so the client reconnects
   * on a new connection, which the load balancer gives to another replica. Streams opened later are
   * served as usual.
   */
  closeAll(): void;
  /**
   * Shutdown: `closeAll`, the heartbeat and gap re-checks stop, and a stream that opens afterwards
   * (its session was still loading) is ended the same way at once instead of holding the process
   * until the grace period runs out.
   */
  close(): void;
}

export interface StreamOwner {
  sessionId: string;
  sessionHandle: string;
  issuer: string;
  sub: string;
}

export interface SseHubDeps {
  bus: EventBus;
  heartbeatMs: number;
  retryMs: number;
  maxBufferedBytes: number;
  /** Re-read after registering: a revocation published before we listened must not be missed. */
  revocationOf: (sessionId: string) => Promise<Revocation | null>;
  /**
   * The tombstone of a session, or null. Called for every open stream at once after a bus gap, so it
   * must be one plain command (ioredis pipelines concurrent calls into a single write).
   */
  tombstoneOf: (sessionId: string) => Promise<Revocation | null>;
  log: Logger;
  onStreamsChanged?: (count: number) => void;
  onDropped?: () => void;
}

/**
 * What an open stream holds beyond its socket: kept small, as a replica holds thousands. The socket
 * is taken from node:http once the head is sent (src/events/takeConnection.ts): no parser, request or
 * response object lives on with the stream.
 */
interface Stream {
  readonly socket: Socket;
  readonly sessionId: string;
  readonly sessionTopic: string;
  readonly userTopic: string;
  readonly listener: Listener;
}

/** Tombstones read per pipelined batch when re-checking every stream after a bus gap. */
const RECHECK_BATCH = 1000;
const RECHECK_RETRY_MS = 1000;

/**
 * The only code that touches event streams. Each stream listens on its session's topic and its
 * user's topic; one listener on the broadcast topic, held while the hub has streams, writes each
 * broadcast event to all of them (serialised once); one timer sends heartbeats to all; a client that
 * stops reading is dropped once `maxBufferedBytes` pile up for it, so memory stays bounded. After a
 * bus gap (messages may have been lost) every stream's session is re-checked: revoked ones are told
 * and ended, the others get a `resync` event (board events may have been missed).
 */
export function createSseHub(deps: SseHubDeps): SseHub {
  const streams = new Map<Socket, Stream>();
  const changed = () => deps.onStreamsChanged?.(streams.size);

  const heartbeat = setInterval(() => {
    for (const stream of streams.values()) write(stream, ': ping\n\n');
  }, deps.heartbeatMs);
  heartbeat.unref();

  const write = (stream: Stream, frame: string): void => {
    const { socket } = stream;
    if (socket.writableEnded || socket.destroyed) return;
    if (socket.writableLength > deps.maxBufferedBytes) {
      deps.log.warn({ buffered: socket.writableLength }, 'SSE client is not reading; dropping its stream');
      deps.onDropped?.();
      socket.destroy();
      return;
    }
    socket.write(frame);
  };

  const send = (stream: Stream, event: AppEvent, frame = frameOf(event)): void => {
    write(stream, frame);
    if (event.type === 'session_invalidated') end(stream.socket);
  };

  // A stream's body is delimited by its connection's close, so ending one closes the connection: it
  // is released at once, and the socket destroyed once the last frame is handed to the kernel (the
  // client's side of the close is not waited for), or once nothing has moved on it for
  // ENDING_IDLE_MS: a client that has stopped reading would otherwise hold the connection and its
  // unsent frames for good, out of reach of the heartbeat and the buffer limit.
  const end = (socket: Socket, frame = ''): void => {
    release(socket);
    socket.setTimeout(ENDING_IDLE_MS, destroyThis);
    socket.end(frame, () => socket.destroy());
  };

  // One listener for all streams rather than one per stream: a stream then costs the fan-out no
  // entry on this topic, and a board event is serialised once, not once per stream.
  const broadcast: Listener = (event) => {
    const frame = frameOf(event);
    for (const stream of streams.values()) send(stream, event, frame);
  };

  // Spread over [retry/2, retry]: a replica's streams do not all reconnect in the same instant. The
  // connection closes with the stream, so the reconnect reaches the load balancer afresh.
  const retryFrame = (): string => `retry: ${Math.round(deps.retryMs * (0.5 + Math.random() / 2))}\n\n`;

  const release = (socket: Socket): void => {
    const stream = streams.get(socket);
    if (!stream) return;
    streams.delete(socket);
    deps.bus.unsubscribe(stream.sessionTopic, stream.listener);
    deps.bus.unsubscribe(stream.userTopic, stream.listener);
    if (streams.size === 0) deps.bus.unsubscribe(topics.broadcast, broadcast);
    changed();
  };
  // One function each for every stream's socket events (`this` is the socket), rather than closures.
  function onClose(this: Socket): void {
    release(this);
  }

  // After a gap: tombstones are read in pipelined batches; a failed read is retried while streams stay open.
  let recheckWanted = false;
  let rechecking = false;
  let stopped = false;
  const recheckAll = async (): Promise<void> => {
    const all = [...streams.values()];
    for (let i = 0; i < all.length; i += RECHECK_BATCH) {
      const batch = all.slice(i, i + RECHECK_BATCH);
      const found = await Promise.all(batch.map((stream) => deps.tombstoneOf(stream.sessionId)));
      batch.forEach((stream, k) => {
        const revocation = found[k];
        send(stream, revocation ? invalidated(revocation) : createEvent('resync'));
      });
    }
  };
  const recheck = async (): Promise<void> => {
    recheckWanted = true;
    if (rechecking) return;
    rechecking = true;
    while (recheckWanted && !stopped) {
      recheckWanted = false;
      try {
        await recheckAll();
      } catch (err) {
        deps.log.warn({ err: describeError(err) }, 'could not re-check open streams after a bus gap; retrying');
        recheckWanted = true;
        await new Promise((resolve) => setTimeout(resolve, RECHECK_RETRY_MS).unref());
      }
    }
    rechecking = false;
  };
  deps.bus.onGap(() => void recheck());

  return {
    async open(req, res, owner, headers) {
      // The client may have left while its session was loading; then there is nothing to serve.
      if (req.socket.destroyed) return;
      // A response queued behind another on its connection, or with requests pipelined behind it,
      // cannot take the connection: it is told to come back, as streams are on shutdown.
      if (stopped || !canTakeConnection(req, res)) {
        res.writeHead(200, { ...STREAM_HEADERS, ...headers, Connection: 'close' });
        res.end(retryFrame());
        return;
      }
      const sessionTopic = topics.session(owner.sessionHandle);
      const userTopic = topics.user(owner.issuer, owner.sub);
      // subscribe() throws (503) before anything is registered or sent if the bus is down.
      const listener: Listener = (event) => send(stream, event);
      deps.bus.subscribe(sessionTopic, listener);
      deps.bus.subscribe(userTopic, listener);
      if (streams.size === 0) deps.bus.subscribe(topics.broadcast, broadcast);
      // From here to the 'close' listener nothing awaits: the client cannot leave halfway through the
      // registration.
      const socket = takeConnection(req, res, 200, { ...STREAM_HEADERS, ...headers });
      const stream: Stream = { socket, sessionId: owner.sessionId, sessionTopic, userTopic, listener };
      streams.set(socket, stream);
      socket.on('close', onClose);
      socket.on('error', ignore);
      // The client has gone (or sent more than its one request): nothing it could still read matters.
      socket.on('end', destroyThis);
      socket.on('data', destroyThis);
      socket.resume();
      changed();

      socket.setNoDelay(true);
      write(stream, `retry: ${deps.retryMs}\ndata: connected\n\n`);

      let revocation: Revocation | null;
      try {
        revocation = await deps.revocationOf(owner.sessionId);
      } catch (err) {
        // Unknown whether the session still lives: end the stream; the reconnect is checked afresh.
        deps.log.warn({ err: describeError(err) }, 'could not re-check a new stream; ending it');
        end(socket);
        return;
      }
      if (revocation) send(stream, invalidated(revocation));
    },
    get size() {
      return streams.size;
    },
    closeAll() {
      for (const { socket } of streams.values()) {
        if (!socket.writableEnded && !socket.destroyed) end(socket, retryFrame());
      }
    },
    close() {
      stopped = true;
      clearInterval(heartbeat);
      this.closeAll();
    },
  };
}

const STREAM_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-store, no-transform',
  'X-Accel-Buffering': 'no',
  'X-Content-Type-Options': 'nosniff',
} as const;

/** How long an ending stream's connection may sit without progress before it is cut. */
const ENDING_IDLE_MS = 5000;

function destroyThis(this: Socket): void {
  this.destroy();
}

function ignore(): void {
  // A socket error: its 'close' follows, which releases the stream.
}

/** An event as one SSE frame: its `id`, its type as the event name, the rest as JSON data. */
function frameOf(event: AppEvent): string {
  const { id, ...data } = event;
  const frame = `id: ${id}\nevent: ${event.type}\ndata: ${JSON.stringify(data)}\n\n`;
  // Existing clients listen with onmessage only and compare event.data to this literal.
  return event.type === 'session_invalidated' ? `${frame}data: session_invalidated\n\n` : frame;
}

/** The event for a revocation read from storage: its stored reason and time. */
function invalidated(revocation: Revocation): AppEvent {
  return { type: 'session_invalidated', id: randomUUID(), reason: revocation.reason, at: revocation.at };
}
