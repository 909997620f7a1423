import type { AnyBoardEvent, ConnectionState, SessionStatus } from './types.js';

/** What the stream needs of `EventSource` (the browser's, or a test double). */
export interface EventSourceLike {
  readonly readyState: number;
  onopen: ((event: Event) => void) | null;
  onerror: ((event: Event) => void) | null;
  addEventListener(type: string, listener: (event: MessageEvent) => void): void;
  close(): void;
}
export type EventSourceFactory = (url: string, init: { withCredentials: boolean }) => EventSourceLike;

export interface BackoffOptions {
  /** First delay's ceiling, ms (default 1000). */
  baseMs?: number;
  /** Largest ceiling, ms (default 30000). */
  maxMs?: number;
}

export interface EventStreamOptions {
  /** Absolute URL of `GET /api/events`. */
  url: string;
  /** Event names to listen for (named SSE events with JSON data). */
  types: readonly string[];
  createEventSource: EventSourceFactory;
  /** `GET /api/session-status`; asked after every error, before any reconnect. */
  sessionStatus: () => Promise<SessionStatus>;
  /** Id of the last event this browser saw (after a leader handoff), sent as `lastEventId`. */
  lastEventId?: string;
  backoff?: BackoffOptions;
  random?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
  onEvent: (event: AnyBoardEvent) => void;
  onState: (state: ConnectionState) => void;
}

export interface EventStream {
  /** Stops for good: no reconnect; state becomes `ended/closed` unless it had already ended. */
  close(): void;
}

/**
 * Delay before reconnect attempt `attempt` (1-based), ms: "equal jitter" — half of the exponential
 * ceiling min(maxMs, baseMs·2^(attempt-1)) plus a random share of the other half, so thousands of tabs
 * cut off by one replica's restart do not come back in the same instant, yet none retries at once.
 */
export function backoffDelay(attempt: number, random: () => number, { baseMs = 1000, maxMs = 30_000 }: BackoffOptions = {}): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * One `EventSource` (`withCredentials`) on the BFF's stream, with the rules that keep a server calm:
 *  - `session_invalidated` ends the stream for good and reports the server's reason;
 *  - on any error the `EventSource` is closed (no blind native retry) and `session-status` is asked:
 *    a revoked session ends the stream with its reason, a missing one as `signed_out`; only a live
 *    session (or an unreachable server) leads to a reconnect, after `backoffDelay`;
 *  - the reconnect carries the last event id as `?lastEventId=` (an `EventSource` cannot set the
 *    `Last-Event-ID` header on a new connection) and events seen before are not passed on twice.
 */
export function openEventStream(options: EventStreamOptions): EventStream {
  const random = options.random ?? Math.random;
  const setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = options.clearTimer ?? ((timer) => clearTimeout(timer as ReturnType<typeof setTimeout>));
  let lastEventId = options.lastEventId;
  const seen = new RecentIds(200);
  let source: EventSourceLike | undefined;
  let timer: unknown;
  let attempt = 0;
  let ended = false;

  const state = (next: ConnectionState) => {
    if (next.status === 'ended') {
      if (ended) return;
      ended = true;
      source?.close();
      source = undefined;
      if (timer !== undefined) clearTimer(timer);
    }
    options.onState(next);
  };

  const connect = () => {
    if (ended) return;
    const url = lastEventId ? `${options.url}${options.url.includes('?') ? '&' : '?'}lastEventId=${encodeURIComponent(lastEventId)}` : options.url;
    const es = options.createEventSource(url, { withCredentials: true });
    source = es;
    es.onopen = () => {
      attempt = 0;
      state({ status: 'live' });
    };
    es.onerror = () => {
      if (source !== es) return;
      es.close();
      source = undefined;
      void recover();
    };
    for (const type of options.types) {
      es.addEventListener(type, (message) => {
        if (source !== es) return;
        let event: AnyBoardEvent;
        try {
          event = { ...JSON.parse(String(message.data)), type } as AnyBoardEvent;
        } catch {
          return; // not ours (an unnamed compatibility message never reaches a named listener)
        }
        const id = message.lastEventId || event.id;
        if (id) {
          if (seen.has(id)) return;
          seen.add(id);
          lastEventId = id;
          event = { ...event, id };
        }
        options.onEvent(event);
        if (event.type === 'session_invalidated') state({ status: 'ended', cause: 'invalidated', reason: event.reason });
      });
    }
  };

  /** `waited`: the backoff delay already passed (a retried status check): connect at once if live. */
  const recover = async (waited = false) => {
    if (ended) return;
    if (!waited) attempt += 1;
    let status: SessionStatus | undefined;
    try {
      status = await options.sessionStatus();
    } catch {
      status = undefined; // server unreachable: keep trying, with backoff
    }
    if (ended) return;
    if (status && !status.authenticated) return state({ status: 'ended', cause: 'signed_out' });
    if (status && !status.sessionActive) return state({ status: 'ended', cause: 'invalidated', reason: status.reason ?? 'revoked' });
    if (status && waited) return connect();
    if (waited) attempt += 1;
    const retryInMs = backoffDelay(attempt, random, options.backoff);
    state({ status: 'reconnecting', attempt, retryInMs });
    timer = setTimer(() => {
      timer = undefined;
      if (status) connect();
      else void recover(true);
    }, retryInMs);
  };

  state({ status: 'connecting' });
  connect();
  return { close: () => state({ status: 'ended', cause: 'closed' }) };
}

/** The last `max` ids, for de-duplication (a relayed or replayed event is passed on once). */
export class RecentIds {
  private readonly ids = new Set<string>();
  constructor(private readonly max: number) {}
  has(id: string): boolean {
    return this.ids.has(id);
  }
  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > this.max) this.ids.delete(this.ids.values().next().value as string);
  }
}
