import { createHash, randomUUID } from 'node:crypto';

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
export type Unsubscribe = () => Promise<void>;

/**
 * Publish/subscribe between replicas. Topics are subscribed per open stream, so a replica hears only
 * about sessions and users it holds streams for (plus the one broadcast topic).
 */
export interface EventBus {
  publish(topic: string, event: AppEvent): Promise<void>;
  subscribe(topic: string, listener: Listener): Promise<Unsubscribe>;
  /** Resolves when the bus can deliver (Redis subscriber connected). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function createEvent(type: string, payload: Record<string, unknown> = {}): AppEvent {
  return { ...payload, type, id: randomUUID(), at: new Date().toISOString() };
}

export const topics = {
  /** One app session, by its public handle (never the session id). */
  session: (handle: string) => `session:${handle}`,
  /** All sessions of one user at one issuer. */
  user: (issuer: string, sub: string) => `user:${createHash('sha256').update(`${issuer}\n${sub}`).digest('base64url').slice(0, 22)}`,
  /** Every open stream. */
  broadcast: 'broadcast',
} as const;
