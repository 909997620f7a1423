import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
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

/** What an open stream holds beyond its socket: kept small, as a replica holds thousands. */
interface Stream {
  readonly res: ServerResponse;
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
  const streams = new Map<ServerResponse, Stream>();
  const changed = () => deps.onStreamsChanged?.(streams.size);

  const heartbeat = setInterval(() => {
    for (const stream of streams.values()) write(stream, ': ping\n\n');
  }, deps.heartbeatMs);
  heartbeat.unref();

  const write = (stream: Stream, frame: string): void => {
    const { res } = stream;
    if (res.writableEnded || res.destroyed) return;
    if (res.writableLength > deps.maxBufferedBytes) {
      deps.log.warn({ buffered: res.writableLength }, 'SSE client is not reading; dropping its stream');
      deps.onDropped?.();
      res.destroy();
      return;
    }
    res.write(frame);
  };

  const send = (stream: Stream, event: AppEvent, frame = frameOf(event)): void => {
    write(stream, frame);
    if (event.type === 'session_invalidated') stream.res.end();
  };

  // One listener for all streams rather than one per stream: a stream then costs the fan-out no
  // entry on this topic, and a board event is serialised once, not once per stream.
  const broadcast: Listener = (event) => {
    const frame = frameOf(event);
    for (const stream of streams.values()) send(stream, event, frame);
  };

  const endWithRetry = (res: ServerResponse): void => {
    // Spread over [retry/2, retry]: a replica's streams do not all reconnect in the same instant.
    res.write(`retry: ${Math.round(deps.retryMs * (0.5 + Math.random() / 2))}\n\n`);
    // A kept-alive connection would carry the reconnect back to this process.
    // (A 'finish' listener, not an end() callback: express-session's end() wrapper takes no callback.)
    const socket = res.socket;
    res.once('finish', () => socket?.end());
    res.end();
  };

  const release = (res: ServerResponse): void => {
    const stream = streams.get(res);
    if (!stream) return;
    streams.delete(res);
    deps.bus.unsubscribe(stream.sessionTopic, stream.listener);
    deps.bus.unsubscribe(stream.userTopic, stream.listener);
    if (streams.size === 0) deps.bus.unsubscribe(topics.broadcast, broadcast);
    changed();
  };
  // One function for every stream's 'close' (`this` is the response), rather than a closure each.
  function onClose(this: ServerResponse): void {
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
      if (stopped) {
        res.writeHead(200, { ...STREAM_HEADERS, ...headers });
        return endWithRetry(res);
      }
      const sessionTopic = topics.session(owner.sessionHandle);
      const userTopic = topics.user(owner.issuer, owner.sub);
      const stream: Stream = { res, sessionId: owner.sessionId, sessionTopic, userTopic, listener: (event) => send(stream, event) };
      // From here to the 'close' listener nothing awaits: the client cannot leave halfway through the
      // registration. subscribe() throws (503) before anything is registered if the bus is down.
      deps.bus.subscribe(sessionTopic, stream.listener);
      deps.bus.subscribe(userTopic, stream.listener);
      if (streams.size === 0) deps.bus.subscribe(topics.broadcast, broadcast);
      streams.set(res, stream);
      res.on('close', onClose);
      changed();

      req.socket.setTimeout(0);
      req.socket.setNoDelay(true);
      res.writeHead(200, { ...STREAM_HEADERS, ...headers });
      write(stream, `retry: ${deps.retryMs}\ndata: connected\n\n`);

      let revocation: Revocation | null;
      try {
        revocation = await deps.revocationOf(owner.sessionId);
      } catch (err) {
        // Unknown whether the session still lives: end the stream; the reconnect is checked afresh.
        deps.log.warn({ err: describeError(err) }, 'could not re-check a new stream; ending it');
        res.end();
        return;
      }
      if (revocation) send(stream, invalidated(revocation));
    },
    get size() {
      return streams.size;
    },
    closeAll() {
      for (const stream of streams.values()) {
        if (!stream.res.writableEnded && !stream.res.destroyed) endWithRetry(stream.res);
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
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
  'X-Content-Type-Options': 'nosniff',
} as const;

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
