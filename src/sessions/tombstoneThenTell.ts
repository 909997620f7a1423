import { unavailable } from '../errors.js';
import { createEvent, topics, type EventBus } from '../events/eventBus.js';
import { busMessage } from '../events/redisBus.js';
import { redisKeys } from '../storage/keys.js';
import type { RedisConnection } from '../storage/redisClient.js';
import { pxOf } from '../storage/redisKv.js';
import type { Revocation } from './revocation.js';
import { sessionHandleOf } from './sessionHandle.js';
import { tombstoneValue, type Tombstones } from './tombstones.js';

/**
 * Puts a session's tombstone down (SET NX: a tombstone already standing keeps its first reason),
 * then tells the session's streams, on whichever replica holds them: `session_invalidated` with the
 * reason, on the session's topic. The event never leaves before the tombstone is down, so a stream
 * told of the end finds its session revoked whatever it asks next. Rejects with a 503 HttpError when
 * storage or the bus fails; then the event may not have left (the caller's retry sends it).
 */
export type TombstoneThenTell = (sessionId: string, revocation: Revocation, ttlMs: number) => Promise<void>;

/** The event and its topic (one per session, by its public handle). */
function invalidated(sessionId: string, revocation: Revocation) {
  return { topic: topics.session(sessionHandleOf(sessionId)), event: createEvent('session_invalidated', { reason: revocation.reason }) };
}

/** The two steps in turn, the event once the write has answered: the in-process twin. */
export function tombstoneThenTellInTurn(tombstones: Tombstones, bus: EventBus): TombstoneThenTell {
  return async (sessionId, revocation, ttlMs) => {
    await tombstones.put(sessionId, revocation, ttlMs);
    const { topic, event } = invalidated(sessionId, revocation);
    await bus.publish(topic, event);
  };
}

/**
 * The tombstone's SET NX and the event's PUBLISH in one script (one key: the tombstone's, so one
 * Cluster slot; a classic PUBLISH from a script reaches every node, as any PUBLISH does): the event
 * leaves in the round trip of the write, one round trip sooner than when the PUBLISH waited for the
 * SET's answer, and never ahead of it. Two commands merely sent together would not do: Redis runs
 * them in order, but a SET refused (out of memory, a primary turned read-only) or redirected (a
 * Cluster slot moving: the SET is sent again later) would leave the PUBLISH done without the
 * tombstone; a script stops at the failed SET, and a script sent again runs both or neither. The
 * tombstone is written as Tombstones.put writes it (tombstoneValue, under `tomb:<id>`).
 * One of the two round trips the propagation pass took off a back-channel logout's path to the
 * event (README "Performance"; `npx tsx test/bench/roundTripsToEvent.ts baseline=<before, built>`).
 */
export function createRedisTombstoneThenTell(redis: RedisConnection, prefix: string): TombstoneThenTell {
  const keys = redisKeys(prefix);
  const client = redis as RedisConnection & {
    bffTombstoneThenPublish(key: string, value: string, ttlMs: number, channel: string, message: string): Promise<number>;
  };
  if (!('bffTombstoneThenPublish' in redis)) {
    redis.defineCommand('bffTombstoneThenPublish', {
      numberOfKeys: 1,
      lua: `redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') return redis.call('PUBLISH', ARGV[3], ARGV[4])`,
    });
  }
  return async (sessionId, revocation, ttlMs) => {
    const { topic, event } = invalidated(sessionId, revocation);
    try {
      await client.bffTombstoneThenPublish(
        keys.tombstone(sessionId),
        tombstoneValue(revocation),
        pxOf(ttlMs),
        keys.eventChannel,
        busMessage(topic, event),
      );
    } catch (err) {
      throw unavailable('Redis', err);
    }
  };
}
