import { randomUUID } from 'node:crypto';
import { keyDigest } from '../storage/keys.js';

/** What travels on the bus and, unchanged, on the SSE stream as a named event with JSON data. */
export interface AppEvent {
  type: string;
  /** Same for every stream that receives this event (the SSE `id:`). */
  id: string;
  /** ISO-8601 time the event was created. */
  at: string;
  [field: string]: unknown;
}

export type Listener = (event: AppEvent) => void;

/**
 * Publish/subscribe between replicas. Every replica hears every topic over one shared channel and
 * hands each event to its own listeners of that topic: subscribing is local (no round trip), so it
 * costs a stream no Redis subscription of its own and cannot race the stream's end.
 */
export interface EventBus {
  /** Sends `event` to the listeners of `topic` on every replica. Throws a 503 `HttpError` when the bus is unreachable. */
  publish(topic: string, event: AppEvent): Promise<void>;
  /**
   * Adds a listener on this replica. Throws a 503 `HttpError` when the bus cannot deliver right now
   * (Redis subscriber disconnected): a caller that relies on delivery must not start.
   */
  subscribe(topic: string, listener: Listener): void;
  /** Removes a listener added with `subscribe`; a no-op for an unknown pair. */
  unsubscribe(topic: string, listener: Listener): void;
  /**
   * Registers `callback` for the end of every gap: a span in which messages may have been lost (the
   * Redis subscriber reconnected). It runs once delivery has resumed, so state re-read from storage
   * by the callback plus the messages that follow cover everything published during the gap.
   */
  onGap(callback: () => void): void;
  /** Listeners registered on this replica (all topics). */
  readonly listenerCount: number;
  /** Resolves when the bus can deliver (Redis subscriber connected and subscribed). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function createEvent(type: string, payload: Record<string, unknown> = {}): AppEvent {
  return { ...payload, type, id: randomUUID(), at: new Date().toISOString() };
}

export const topics = {
  /** One app session, by its public handle (never the session id). */
  session: (sessionHandle: string) => `session:${sessionHandle}`,
  /** All sessions of one user at one issuer (the user index's digest, shortened: the sub never appears). */
  user: (issuer: string, sub: string) => `user:${keyDigest(issuer, sub).slice(0, 22)}`,
  /** Every open stream. */
  broadcast: 'broadcast',
} as const;
