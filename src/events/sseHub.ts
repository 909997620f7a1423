import type { Request, Response } from 'express';
import type { Logger } from '../logger.js';
import type { Revocation } from '../sessions/authState.js';
import { createEvent, topics, type AppEvent, type EventBus, type Unsubscribe } from './eventBus.js';

export interface SseHub {
  /** Serves `GET /api/events` for a live session until the client leaves or the session ends. */
  open(req: Request, res: Response, session: StreamOwner): Promise<void>;
  readonly size: number;
  /**
   * Ends every stream (shutdown) with a `retry` hint and closes its connection, so the client
   * reconnects on a new connection, which the load balancer gives to another replica.
   */
  closeAll(): void;
}

export interface StreamOwner {
  sid: string;
  handle: string;
  issuer: string;
  sub: string;
}

export interface SseHubDeps {
  bus: EventBus;
  heartbeatMs: number;
  retryMs: number;
  maxBufferedBytes: number;
  /** Re-read after subscribing: a revocation published before we listened must not be missed. */
  revocationOf: (sid: string) => Promise<Revocation | null>;
  log: Logger;
  onStreamsChanged?: (count: number) => void;
  onDropped?: () => void;
}

interface Stream {
  res: Response;
  closed: boolean;
  /**
   * Events heard between the first subscription and the answer, sent after `connected`: written
   * earlier they would send implicit headers, and the stream's own headers would then throw.
   */
  early: AppEvent[] | undefined;
}

/**
 * The only code that touches event streams. Each stream listens on its session's topic, its
 * user's topic and the broadcast topic; one timer sends heartbeats to all streams; a client that
 * stops reading is dropped once `maxBufferedBytes` pile up for it, so memory stays bounded.
 */
export function createSseHub(deps: SseHubDeps): SseHub {
  const streams = new Set<Stream>();
  const changed = () => deps.onStreamsChanged?.(streams.size);

  const heartbeat = setInterval(() => {
    for (const stream of streams) write(stream, ': ping\n\n');
  }, deps.heartbeatMs);
  heartbeat.unref();

  const write = (stream: Stream, frame: string): void => {
    if (stream.closed || stream.res.writableEnded) return;
    if (stream.res.writableLength > deps.maxBufferedBytes) {
      deps.log.warn({ buffered: stream.res.writableLength }, 'SSE client is not reading; dropping its stream');
      deps.onDropped?.();
      stream.res.destroy();
      return;
    }
    stream.res.write(frame);
  };

  const send = (stream: Stream, event: AppEvent): void => {
    const { id, ...data } = event;
    let frame = `id: ${id}\nevent: ${event.type}\ndata: ${JSON.stringify(data)}\n\n`;
    // Existing clients listen with onmessage only and compare event.data to this literal.
    if (event.type === 'session_invalidated') frame += 'data: session_invalidated\n\n';
    write(stream, frame);
    if (event.type === 'session_invalidated' && !stream.closed && !stream.res.writableEnded) stream.res.end();
  };

  return {
    async open(req, res, owner) {
      const stream: Stream = { res, closed: false, early: [] };
      const listener = (event: AppEvent) => (stream.early ? stream.early.push(event) : send(stream, event));
      const subscriptions: Unsubscribe[] = [];
      const release = () => {
        if (stream.closed) return;
        stream.closed = true;
        streams.delete(stream);
        changed();
        for (const unsubscribe of subscriptions) void unsubscribe();
      };
      res.on('close', release);

      // Subscribe before answering: if the bus is down the client gets a 503, not a silent stream.
      try {
        for (const topic of [topics.session(owner.handle), topics.user(owner.issuer, owner.sub), topics.broadcast]) {
          subscriptions.push(await deps.bus.subscribe(topic, listener));
        }
      } catch (err) {
        release();
        throw err;
      }
      if (req.destroyed || res.destroyed) return release();

      req.socket.setTimeout(0);
      req.socket.setNoDelay(true);
      res.writeHead(200, {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-cache, no-store, no-transform',
        Connection: 'keep-alive',
        'X-Accel-Buffering': 'no',
        'X-Content-Type-Options': 'nosniff',
      });
      streams.add(stream);
      changed();
      write(stream, `retry: ${deps.retryMs}\ndata: connected\n\n`);
      const early = stream.early ?? [];
      stream.early = undefined;
      for (const event of early) send(stream, event);

      const revocation = await deps.revocationOf(owner.sid).catch(() => null);
      if (revocation) send(stream, createEvent('session_invalidated', { reason: revocation.reason }));
    },
    get size() {
      return streams.size;
    },
    closeAll() {
      clearInterval(heartbeat);
      for (const stream of streams) {
        // Spread over [retry/2, retry]: a replica's streams do not all reconnect in the same instant.
        write(stream, `retry: ${Math.round(deps.retryMs * (0.5 + Math.random() / 2))}\n\n`);
        // A kept-alive connection would carry the reconnect back to this dying process.
        // (A 'finish' listener, not an end() callback: express-session's end() wrapper takes no callback.)
        const socket = stream.res.socket;
        stream.res.once('finish', () => socket?.end());
        stream.res.end();
      }
    },
  };
}
