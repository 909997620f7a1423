import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics, type AppEvent } from '../../src/events/eventBus.js';
import { createRedisBus } from '../../src/events/redisBus.js';
import { createLogger } from '../../src/logger.js';
import { sessionHandleOf } from '../../src/sessions/sessionHandle.js';
import { createRedisTombstoneThenTell } from '../../src/sessions/tombstoneThenTell.js';
import { createTombstones } from '../../src/sessions/tombstones.js';
import { createRedisKv } from '../../src/storage/redisKv.js';
import { startOwnRedis, type OwnRedis } from '../support/ownRedis.js';

/**
 * The tombstone and the event in one script (README "Performance", propagation): the event leaves
 * in the round trip of the tombstone's write, and never without it. On a redis-server of this
 * file's own (the last test fills its memory).
 */
describe('the tombstone, then session_invalidated, in one script', () => {
  const log = createLogger({ level: 'silent' });
  const prefix = 'tell:';
  let redis: OwnRedis;
  const connections: Redis[] = [];
  const connection = () => {
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    connections.push(client);
    return client;
  };

  beforeAll(async () => {
    redis = await startOwnRedis();
  });
  afterAll(async () => {
    connections.forEach((client) => client.disconnect());
    await redis?.stop();
  });

  /** Another replica's view: its bus (for the event) and its tombstones (read when the event arrives). */
  const otherReplica = async () => {
    const bus = createRedisBus(connection(), connection(), prefix, log);
    await expect.poll(() => bus.ping().then(() => true, () => false)).toBe(true);
    return { bus, tombstones: createTombstones(createRedisKv(connection()), prefix) };
  };

  it('when a session is told of its end, then a replica that hears the event finds the tombstone already standing, as Tombstones writes it', async () => {
    const other = await otherReplica();
    const seen: Array<{ event: AppEvent; tombstone: unknown }> = [];
    other.bus.subscribe(topics.session(sessionHandleOf('s1')), (event) => {
      void other.tombstones.get('s1').then((tombstone) => seen.push({ event, tombstone }));
    });
    const tell = createRedisTombstoneThenTell(connection(), prefix);

    await tell('s1', { reason: 'backchannel_logout', at: '2026-11-30T12:00:00.000Z' }, 60_000);

    await expect.poll(() => seen.length).toBe(1);
    expect(seen[0]).toMatchObject({
      event: { type: 'session_invalidated', reason: 'backchannel_logout' },
      tombstone: { reason: 'backchannel_logout', at: '2026-11-30T12:00:00.000Z' },
    });
    // A second revocation tells again but keeps the first reason (SET NX).
    await tell('s1', { reason: 'logout', at: '2026-11-30T12:00:01.000Z' }, 60_000);
    await expect.poll(() => seen.length).toBe(2);
    expect(seen[1]).toMatchObject({ event: { reason: 'logout' }, tombstone: { reason: 'backchannel_logout' } });
    expect(Number(await redis.command(['PTTL', `${prefix}tomb:s1`]).then((line) => line.slice(1)))).toBeGreaterThan(50_000);
  });

  it('when the tombstone cannot be written (Redis out of memory), then no event leaves and the caller gets a 503', async () => {
    const other = await otherReplica();
    const told: AppEvent[] = [];
    other.bus.subscribe(topics.session(sessionHandleOf('s2')), (event) => told.push(event));
    const tell = createRedisTombstoneThenTell(connection(), prefix);
    // A PUBLISH merely sent behind a refused SET would still run: PUBLISH is allowed out of memory.
    expect(await redis.command(['CONFIG', 'SET', 'maxmemory', '1'])).toBe('+OK');
    try {
      await expect(tell('s2', { reason: 'backchannel_logout', at: new Date().toISOString() }, 60_000)).rejects.toMatchObject({ status: 503 });
      expect(await redis.command(['PUBLISH', 'probe', 'x'])).toBe(':0');
    } finally {
      expect(await redis.command(['CONFIG', 'SET', 'maxmemory', '0'])).toBe('+OK');
    }
    // The bus still delivers (the probe above ran): the event was never sent.
    await tell('s3', { reason: 'logout', at: new Date().toISOString() }, 60_000);
    other.bus.subscribe(topics.session(sessionHandleOf('s4')), (event) => told.push(event));
    await tell('s4', { reason: 'logout', at: new Date().toISOString() }, 60_000);
    await expect.poll(() => told.length).toBe(1);
    expect(told[0]).toMatchObject({ type: 'session_invalidated', reason: 'logout' });
    expect(await redis.command(['EXISTS', `${prefix}tomb:s2`])).toBe(':0');
  });
});
