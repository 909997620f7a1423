import { RecentIds, type EventStream } from './eventStream.js';
import type { AnyBoardEvent, BoardEvents, BoardEventType, ConnectionState, EndReason } from './types.js';

/** The part of `BroadcastChannel` used here. */
export interface ChannelLike {
  postMessage(message: unknown): void;
  onmessage: ((event: MessageEvent) => void) | null;
  close(): void;
}

/** The part of the Web Locks API (`navigator.locks`) used here. */
export interface LocksLike {
  request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<unknown>): Promise<unknown>;
}

export interface SharedEventsOptions {
  /** Lock and channel name; one stream per browser per name (default per BFF origin). */
  name: string;
  /** `navigator.locks`; without it every tab runs its own stream. */
  locks: LocksLike | undefined;
  createChannel: ((name: string) => ChannelLike) | undefined;
  /** Opens the real stream (in the leader tab only). */
  start: (sink: { onEvent(event: AnyBoardEvent): void; onState(state: ConnectionState): void }, lastEventId: string | undefined) => EventStream;
}

export interface SharedEvents {
  readonly state: ConnectionState;
  /** True in the tab that holds the stream. */
  readonly isLeader: boolean;
  subscribe(listener: (event: AnyBoardEvent) => void): () => void;
  /** Typed listener for one event name; returns the unsubscribe function. */
  on<T extends BoardEventType>(type: T, listener: (event: BoardEvents[T]) => void): () => void;
  onState(listener: (state: ConnectionState) => void): () => void;
  /** Leaves: a leader stops its stream and lets another tab take it over. */
  close(): void;
  /**
   * Leaves after this tab ended the session itself (logout): the other tabs are told at once, with
   * `reason`, rather than relying on the stream delivering `session_invalidated` before this tab goes.
   */
  closeEnded(reason: EndReason): void;
}

type Message = { kind: 'event'; event: AnyBoardEvent } | { kind: 'state'; state: ConnectionState } | { kind: 'hello' };

/**
 * One event stream per browser instead of one per tab. A browser allows six HTTP/1.1 connections per
 * origin, so the seventh tab with its own stream would stall every request of the site. The tabs
 * queue for one Web Lock; the holder (leader) runs the stream and relays each event and state change
 * on a BroadcastChannel; the others only listen there. When the leader's tab closes, the browser
 * releases its lock and the next tab in the queue opens the stream, resuming from the last event id
 * any tab saw. Every tab drops events it has already seen (by id).
 */
export function createSharedEvents(options: SharedEventsOptions): SharedEvents {
  const listeners = new Set<(event: AnyBoardEvent) => void>();
  const stateListeners = new Set<(state: ConnectionState) => void>();
  const seen = new RecentIds(200);
  let state: ConnectionState = { status: 'connecting' };
  let lastEventId: string | undefined;
  let leader = false;
  let closed = false;
  let stream: EventStream | undefined;
  let release: (() => void) | undefined;
  const abort = new AbortController();
  const shared = options.locks !== undefined && options.createChannel !== undefined;
  const channel = shared ? options.createChannel!(options.name) : undefined;
  const post = (message: Message) => channel?.postMessage(message);

  const dispatch = (event: AnyBoardEvent) => {
    if (event.id) {
      if (seen.has(event.id)) return;
      seen.add(event.id);
      lastEventId = event.id;
    }
    for (const listener of [...listeners]) listener(event);
  };
  const setState = (next: ConnectionState) => {
    // Ended is final, and the first reason given is the one people see.
    if (state.status === 'ended' && (next.status !== 'ended' || state.cause === 'invalidated')) return;
    state = next;
    for (const listener of [...stateListeners]) listener(next);
  };

  const lead = () => {
    leader = true;
    if (state.status === 'ended') return; // nothing left to listen for; hold the lock so no tab retries
    stream = options.start(
      {
        onEvent(event) {
          dispatch(event);
          post({ kind: 'event', event });
        },
        onState(next) {
          // Our own close is not the others' news (the next leader takes over), nor is anything
          // after the session ended.
          if (closed || state.status === 'ended') return;
          setState(next);
          post({ kind: 'state', state: next });
        },
      },
      lastEventId,
    );
  };

  if (channel) {
    channel.onmessage = ({ data }: MessageEvent) => {
      const message = data as Message;
      if (message.kind === 'event') dispatch(message.event);
      else if (message.kind === 'state' && message.state.status === 'ended') {
        // Even a leader takes this (it may have just taken over from the tab that logged out).
        setState(message.state);
        stream?.close();
      } else if (message.kind === 'state' && !leader) setState(message.state);
      else if (message.kind === 'hello' && leader) post({ kind: 'state', state });
    };
    post({ kind: 'hello' });
    options
      .locks!.request(options.name, { signal: abort.signal }, () => {
        if (closed) return Promise.resolve();
        lead();
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      })
      .catch(() => undefined); // AbortError: closed while still queued
  } else {
    lead();
  }

  const close = () => {
    if (closed) return;
    closed = true;
    stream?.close();
    abort.abort();
    release?.();
    channel?.close();
    leader = false;
    if (state.status !== 'ended') setState({ status: 'ended', cause: 'closed' });
  };

  return {
    get state() {
      return state;
    },
    get isLeader() {
      return leader;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    on(type, listener) {
      const filtered = (event: AnyBoardEvent) => {
        if (event.type === type) listener(event as never);
      };
      listeners.add(filtered);
      return () => listeners.delete(filtered);
    },
    onState(listener) {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },
    close,
    closeEnded(reason) {
      post({ kind: 'state', state: { status: 'ended', cause: 'invalidated', reason } });
      close();
    },
  };
}
