import { afterEach, describe, expect, it } from 'vitest';
import { backoffDelay, openEventStream } from '../src/eventStream.js';
import type { AnyBoardEvent, ConnectionState, SessionStatus } from '../src/types.js';
import { flush, ManualTimers, ScriptedEventSource } from './fakes.js';

function harness(statuses: (SessionStatus | Error)[] = []) {
  const events: AnyBoardEvent[] = [];
  const states: ConnectionState[] = [];
  const timers = new ManualTimers();
  let statusCalls = 0;
  const stream = openEventStream({
    url: 'https://bff.test/api/events',
    types: ['session_invalidated', 'comment_created'],
    createEventSource: (url, init) => new ScriptedEventSource(url, init),
    sessionStatus: async () => {
      statusCalls += 1;
      const next = statuses.shift() ?? { authenticated: true, sessionActive: true };
      if (next instanceof Error) throw next;
      return next;
    },
    random: () => 0.5,
    setTimer: timers.set,
    clearTimer: timers.clear,
    onEvent: (event) => events.push(event),
    onState: (state) => states.push(state),
  });
  const source = () => ScriptedEventSource.all.at(-1)!;
  return { stream, events, states, timers, source, statusCalls: () => statusCalls };
}

afterEach(() => {
  ScriptedEventSource.all.length = 0;
});

describe('backoffDelay', () => {
  it('doubles its ceiling per attempt up to the maximum, with half of it random', () => {
    expect(backoffDelay(1, () => 0)).toBe(500);
    expect(backoffDelay(1, () => 1)).toBe(1000);
    expect(backoffDelay(3, () => 0)).toBe(2000);
    expect(backoffDelay(20, () => 1)).toBe(30_000);
    expect(backoffDelay(20, () => 0, { baseMs: 100, maxMs: 800 })).toBe(400);
  });

  it('spreads clients: different random draws give different delays', () => {
    const delays = new Set([0.1, 0.4, 0.9].map((r) => backoffDelay(4, () => r)));
    expect(delays.size).toBe(3);
  });
});

describe('openEventStream', () => {
  it('opens one EventSource with credentials and reports live, then passes typed events on', () => {
    const h = harness();
    expect(ScriptedEventSource.all).toHaveLength(1);
    expect(h.source().init.withCredentials).toBe(true);
    h.source().open();
    h.source().emit('comment_created', { type: 'comment_created', id: 'e1', postId: 7 }, 'e1');
    expect(h.states.map((s) => s.status)).toEqual(['connecting', 'live']);
    expect(h.events).toEqual([expect.objectContaining({ type: 'comment_created', id: 'e1', postId: 7 })]);
  });

  it('when session_invalidated arrives, then it reports the reason, closes and never reconnects', async () => {
    const h = harness();
    h.source().open();
    h.source().emit('session_invalidated', { type: 'session_invalidated', reason: 'backchannel_logout' }, 'e9');
    expect(h.source().closed).toBe(true);
    expect(h.states.at(-1)).toEqual({ status: 'ended', cause: 'invalidated', reason: 'backchannel_logout' });
    h.source().fail();
    await flush();
    expect(h.timers.pending).toHaveLength(0);
    expect(ScriptedEventSource.all).toHaveLength(1);
    expect(h.statusCalls()).toBe(0);
  });

  it('when the stream errors, then it asks session-status before reconnecting, and a revoked session is not retried', async () => {
    const h = harness([{ authenticated: true, sessionActive: false, reason: 'revoked' }]);
    h.source().open();
    h.source().fail();
    await flush();
    expect(h.statusCalls()).toBe(1);
    expect(h.states.at(-1)).toEqual({ status: 'ended', cause: 'invalidated', reason: 'revoked' });
    expect(h.timers.pending).toHaveLength(0);
    expect(ScriptedEventSource.all).toHaveLength(1);
  });

  it('when the session is gone altogether, then it ends as signed_out', async () => {
    const h = harness([{ authenticated: false, sessionActive: false }]);
    h.source().fail();
    await flush();
    expect(h.states.at(-1)).toEqual({ status: 'ended', cause: 'signed_out' });
  });

  it('when the session is live, then it reconnects after a growing backoff, with the last event id, and resets after success', async () => {
    const h = harness();
    h.source().open();
    h.source().emit('comment_created', { type: 'comment_created', id: 'e1' }, 'e1');
    h.source().fail();
    await flush();
    expect(h.states.at(-1)).toEqual({ status: 'reconnecting', attempt: 1, retryInMs: 750 });
    expect(h.timers.runNext()).toBe(750);
    expect(ScriptedEventSource.all).toHaveLength(2);
    expect(h.source().url).toBe('https://bff.test/api/events?lastEventId=e1');
    h.source().fail();
    await flush();
    expect(h.timers.runNext()).toBe(1500);
    h.source().open();
    h.source().fail();
    await flush();
    expect(h.timers.runNext()).toBe(750);
    expect(ScriptedEventSource.all[0]!.closed && ScriptedEventSource.all[1]!.closed).toBe(true);
  });

  it('when session-status cannot be reached, then it keeps asking with backoff and opens no stream meanwhile', async () => {
    const h = harness([new Error('offline'), new Error('offline')]);
    h.source().fail();
    await flush();
    expect(h.timers.runNext()).toBe(750);
    await flush();
    expect(ScriptedEventSource.all).toHaveLength(1);
    expect(h.timers.runNext()).toBe(1500);
    await flush();
    expect(ScriptedEventSource.all).toHaveLength(2);
    expect(h.statusCalls()).toBe(3);
    expect(h.timers.pending).toHaveLength(0);
  });

  it('passes an event id on once, even when a reconnect replays it', async () => {
    const h = harness();
    h.source().open();
    h.source().emit('comment_created', { type: 'comment_created' }, 'same');
    h.source().fail();
    await flush();
    h.timers.runNext();
    h.source().open();
    h.source().emit('comment_created', { type: 'comment_created' }, 'same');
    expect(h.events).toHaveLength(1);
  });

  it('close() stops a pending reconnect', async () => {
    const h = harness();
    h.source().fail();
    await flush();
    h.stream.close();
    expect(h.timers.pending).toHaveLength(0);
    expect(h.states.at(-1)).toEqual({ status: 'ended', cause: 'closed' });
  });
});
