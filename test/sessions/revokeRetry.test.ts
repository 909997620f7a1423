import { describe, expect, it } from 'vitest';
import { topics, type AppEvent, type EventBus } from '../../src/events/eventBus.js';
import { createMemoryBus } from '../../src/events/memoryBus.js';
import { createLogger } from '../../src/logger.js';
import { createLivenessSchedule } from '../../src/sessions/livenessSchedule.js';
import { createRevokeSessions } from '../../src/sessions/revokeSessions.js';
import { sessionHandleOf } from '../../src/sessions/sessionHandle.js';
import { createSessionIndex } from '../../src/sessions/sessionIndex.js';
import { createSessionStore } from '../../src/sessions/sessionStore.js';
import { createTombstones } from '../../src/sessions/tombstones.js';
import { tombstoneThenTellInTurn } from '../../src/sessions/tombstoneThenTell.js';
import { createMemoryKv } from '../../src/storage/memoryKv.js';

/**
 * Issue 8 item 3, the sibling writes: a revocation that fails half-way (a Redis command timed out)
 * is answered 503 and retried by the provider. The retry finds the sessions through the index, so
 * the index entry must be the last thing removed: otherwise the retry finds nothing and the
 * session's streams are never told.
 */
describe('a revocation that failed half-way, then retried', () => {
  it('when publishing the event failed, then the retry still finds the session and tells its streams', async () => {
    const kv = createMemoryKv();
    const tombstones = createTombstones(kv, 't:');
    const store = createSessionStore({ redis: undefined, prefix: 't:', idleSeconds: 600, tombstones, kv });
    const index = createSessionIndex(kv, 't:');
    const log = createLogger({ level: 'silent' });
    const inner = createMemoryBus(log);
    let failures = 1;
    const bus: EventBus = {
      ...inner,
      async publish(topic, event) {
        if (failures-- > 0) throw new Error('publish timed out');
        return inner.publish(topic, event);
      },
    };
    const revoke = createRevokeSessions({
      store,
      index,
      schedule: createLivenessSchedule(kv, 't:'),
      tombstoneThenTell: tombstoneThenTellInTurn(tombstones, bus),
      absoluteLifetimeMs: 3_600_000,
      log,
    });
    const auth = { issuer: 'https://op', sub: 'alice', providerSid: 'p1', absoluteExpiresAt: Date.now() + 3_600_000 };
    await store.write('s1', { cookie: { originalMaxAge: 600_000 }, auth } as never);
    await index.add({ sessionId: 's1', issuer: 'https://op', sub: 'alice', providerSid: 'p1', expiresAt: auth.absoluteExpiresAt });
    const told: AppEvent[] = [];
    await inner.subscribe(topics.session(sessionHandleOf('s1')), (event) => told.push(event));

    await expect(revoke(await index.byProviderSession('https://op', 'p1'), 'backchannel_logout')).rejects.toThrow(/timed out/);
    expect(await index.byProviderSession('https://op', 'p1')).toEqual(['s1']);

    await revoke(await index.byProviderSession('https://op', 'p1'), 'backchannel_logout');
    await new Promise((resolve) => setImmediate(resolve));
    expect(told).toMatchObject([{ type: 'session_invalidated', reason: 'backchannel_logout' }]);
    expect(await tombstones.get('s1')).toMatchObject({ reason: 'backchannel_logout' });
    expect(await store.read('s1')).toBeNull();
  });
});
