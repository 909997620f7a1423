import { Writable } from 'node:stream';
import type { AppEvent, EventBus, Listener } from '../../../src/events/eventBus.js';
import { createLogger, type Logger } from '../../../src/logger.js';
import type { AuthState } from '../../../src/sessions/authState.js';

export const testIssuer = 'https://id.example.test/realms/board';

/** A signed-in user's session state, as the session guard would hand it to the board. */
export function authFor(sub: string, options: { name?: string; roles?: string[]; loginTime?: string; email?: string } = {}): AuthState {
  const name = options.name ?? `User ${sub}`;
  return {
    issuer: testIssuer,
    sub,
    providerSid: `sid-${sub}`,
    user: { id: sub, username: sub, name, email: options.email ?? `${sub}@example.test`, roles: options.roles ?? [] },
    tokens: { accessToken: 'at', refreshToken: undefined, idToken: 'it', expiresAt: Date.now() + 60_000 },
    loginTime: options.loginTime ?? new Date().toISOString(),
    absoluteExpiresAt: Date.now() + 3_600_000,
  };
}

export interface Published {
  topic: string;
  event: AppEvent;
}

/** An EventBus that records what was published (and can be made to fail, like Redis going away). */
export function createRecordingBus(): EventBus & { published: Published[]; failing: boolean; of(type: string): Published[] } {
  const listeners = new Map<string, Set<Listener>>();
  const bus = {
    published: [] as Published[],
    failing: false,
    of(type: string) {
      return bus.published.filter((entry) => entry.event.type === type);
    },
    async publish(topic: string, event: AppEvent) {
      if (bus.failing) throw new Error('bus unavailable');
      bus.published.push({ topic, event });
      for (const listener of listeners.get(topic) ?? []) listener(event);
    },
    subscribe(topic: string, listener: Listener) {
      const set = listeners.get(topic) ?? new Set<Listener>();
      set.add(listener);
      listeners.set(topic, set);
    },
    unsubscribe(topic: string, listener: Listener) {
      listeners.get(topic)?.delete(listener);
    },
    onGap() {},
    get listenerCount() {
      return [...listeners.values()].reduce((sum, set) => sum + set.size, 0);
    },
    async ping() {},
    async close() {},
  };
  return bus;
}

/** A pino logger whose lines the test can read. */
export function captureLogger(level = 'debug'): { log: Logger; lines: () => Array<Record<string, unknown>> } {
  const captured: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      captured.push(chunk.toString('utf8'));
      done();
    },
  });
  return {
    log: createLogger({ level }, sink),
    lines: () => captured.flatMap((text) => text.split('\n').filter(Boolean)).map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

export const silentLogger = (): Logger => createLogger({ level: 'silent' });
