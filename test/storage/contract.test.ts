import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent, type AppEvent, type EventBus } from '../../src/events/eventBus.js';
import { createMemoryBus } from '../../src/events/memoryBus.js';
import { createRedisBus } from '../../src/events/redisBus.js';
import { createLogger } from '../../src/logger.js';
import { createIssuerNotBefore } from '../../src/backchannel/notBefore.js';
import { createReplayCache } from '../../src/backchannel/replayCache.js';
import { createSessionIndex } from '../../src/sessions/sessionIndex.js';
import { createSessionStore, type SessionStore } from '../../src/sessions/sessionStore.js';
import { createTombstones } from '../../src/sessions/tombstones.js';
import type { Kv } from '../../src/storage/kv.js';
import { createMemoryKv } from '../../src/storage/memoryKv.js';
import { createRedisKv } from '../../src/storage/redisKv.js';
import { redisUrlForTests } from '../support/sharedRedis.js';

const log = createLogger({ level: 'silent' });

interface Twin {
  kv: Kv;
  bus: EventBus;
  /** A second replica's bus over the same backend (Redis), or the same bus (memory: one process). */
  otherBus: EventBus;
  store: SessionStore;
  prefix: string;
}

/**
 * One contract, two implementations: whatever the service relies on from Redis must hold for the
 * in-process twin too, and the reverse.
 */
const twins: Array<[string, () => Promise<Twin & { close(): Promise<void> }>]> = [
  [
    'memory',
    async () => {
      const kv = createMemoryKv();
      const bus = createMemoryBus(log);
      const prefix = 'mem:';
      return { kv, bus, otherBus: bus, prefix, store: storeOver(kv, undefined, prefix), close: async () => {} };
    },
  ],
  [
    'redis',
    async () => {
      const url = await redisUrlForTests();
      const clients = Array.from({ length: 4 }, () => new Redis(url, { enableOfflineQueue: true }));
      const [commands, sub1, commands2, sub2] = clients as [Redis, Redis, Redis, Redis];
      const prefix = `contract:${randomUUID().slice(0, 8)}:`;
      const kv = createRedisKv(commands);
      const bus = createRedisBus(commands, sub1, prefix, log);
      const otherBus = createRedisBus(commands2, sub2, prefix, log);
      // Both buses deliver once their subscriber has connected and subscribed the event channel.
      for (let tries = 0; !(await Promise.all([bus.ping(), otherBus.ping()]).then(() => true, () => false)); tries++) {
        if (tries === 50) throw new Error('the Redis buses did not subscribe within 5 s');
        await sleep(100);
      }
      return {
        kv,
        bus,
        otherBus,
        prefix,
        store: storeOver(kv, commands, prefix),
        close: async () => clients.forEach((c) => c.disconnect()),
      };
    },
  ],
];

function storeOver(kv: Kv, redis: Redis | undefined, prefix: string): SessionStore {
  return createSessionStore({ redis, prefix, idleSeconds: 60, tombstones: createTombstones(kv, prefix), kv });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(twins)('storage contract: %s', (_name, make) => {
  let twin: Twin & { close(): Promise<void> };
  beforeAll(async () => {
    twin = await make();
  });
  afterAll(() => twin?.close());
  const key = (name: string) => `${twin.prefix}${name}:${randomUUID().slice(0, 8)}`;

  it('when a key is set with a TTL, then it reads back, and is gone after the TTL', async () => {
    const k = key('ttl');
    expect(await twin.kv.set(k, 'v', 150)).toBe(true);
    expect(await twin.kv.get(k)).toBe('v');
    await sleep(300);
    expect(await twin.kv.get(k)).toBeNull();
  });

  it('when set-if-absent races, then exactly one writer wins', async () => {
    const k = key('nx');
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => twin.kv.set(k, String(i), 10_000, true)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('when delIfValue names another value, then the key stays; with its own value, it goes', async () => {
    const k = key('lock');
    await twin.kv.set(k, 'mine', 10_000);
    expect(await twin.kv.delIfValue(k, 'yours')).toBe(false);
    expect(await twin.kv.get(k)).toBe('mine');
    expect(await twin.kv.delIfValue(k, 'mine')).toBe(true);
    expect(await twin.kv.get(k)).toBeNull();
  });

  it('when sorted-set members are added with expiries, then lookups skip and prune the expired ones', async () => {
    const k = key('z');
    const now = Date.now();
    await twin.kv.zadd(k, 'old', now - 1000);
    await twin.kv.zadd(k, 'b', now + 20_000, { keyExpiresAt: now + 20_000 });
    await twin.kv.zadd(k, 'a', now + 10_000, { pruneBelow: now, keyExpiresAt: now + 10_000 });
    expect(await twin.kv.zrangeByScore(k, now, Infinity, 10)).toEqual(['a', 'b']);
    expect(await twin.kv.zrangeByScore(k, -Infinity, Infinity, 10)).toEqual(['a', 'b']);
    await twin.kv.zrem(k, 'a');
    expect(await twin.kv.zrangeByScore(k, -Infinity, Infinity, 10)).toEqual(['b']);
  });

  it('when two claimers take due members, then each member goes to one claimer only', async () => {
    const k = key('sched');
    const now = Date.now();
    for (let i = 0; i < 20; i++) await twin.kv.zadd(k, `s${i}`, now - i);
    await twin.kv.zadd(k, 'later', now + 60_000);
    const [first, second] = await Promise.all([twin.kv.zclaim(k, now, now + 5000, 15), twin.kv.zclaim(k, now, now + 5000, 15)]);
    expect(first.length + second.length).toBe(20);
    expect(new Set([...first, ...second]).size).toBe(20);
    expect([...first, ...second]).not.toContain('later');
    expect(await twin.kv.zclaim(k, now, now + 5000, 15)).toEqual([]);
  });

  it('when the index gains and loses sessions, then each lookup lists exactly the live ones', async () => {
    const index = createSessionIndex(twin.kv, `${twin.prefix}${randomUUID().slice(0, 6)}:`);
    const issuer = 'https://idp.example/realms/board';
    const expiresAt = Date.now() + 60_000;
    await index.add({ sessionId: 's1', issuer, sub: 'u1', providerSid: 'p1', expiresAt });
    await index.add({ sessionId: 's2', issuer, sub: 'u1', providerSid: 'p2', expiresAt });
    await index.add({ sessionId: 's3', issuer, sub: 'u2', providerSid: 'p1', expiresAt });
    await index.add({ sessionId: 's4', issuer, sub: 'u1', providerSid: undefined, expiresAt: Date.now() - 1 });
    expect(new Set(await index.byUser(issuer, 'u1'))).toEqual(new Set(['s1', 's2']));
    expect(new Set(await index.byProviderSession(issuer, 'p1'))).toEqual(new Set(['s1', 's3']));
    expect(await index.byProviderSession('https://other-issuer', 'p1')).toEqual([]);
    await index.remove({ sessionId: 's1', issuer, sub: 'u1', providerSid: 'p1' });
    expect(await index.byUser(issuer, 'u1')).toEqual(['s2']);
    expect(await index.byProviderSession(issuer, 'p1')).toEqual(['s3']);
    expect(new Set(await index.all(10))).toEqual(new Set(['s2', 's3']));
  });

  it('when a jti is remembered, then it reads as seen for that issuer and kind only, until its time is up', async () => {
    const replay = createReplayCache(twin.kv, twin.prefix);
    const jti = randomUUID();
    expect(await replay.seen('iss', jti)).toBe(false);
    await replay.remember('iss', jti, Date.now() + 60_000);
    expect(await replay.seen('iss', jti)).toBe(true);
    expect(await replay.seen('other-iss', jti)).toBe(false);
    expect(await createReplayCache(twin.kv, twin.prefix, 'admin').seen('iss', jti)).toBe(false);
    await replay.remember('iss', jti, Date.now() + 60_000);
    expect(await replay.seen('iss', jti)).toBe(true);
  });

  it('when an issuer-wide not-before is raised, lowered or raised again, then the highest stands, per issuer', async () => {
    const notBefore = createIssuerNotBefore(twin.kv, `${twin.prefix}${randomUUID()}:`, 60_000);
    expect(await notBefore.get('iss')).toBe(0);
    await notBefore.raise('iss', 1_800_000_100);
    await notBefore.raise('iss', 1_800_000_050);
    expect(await notBefore.get('iss')).toBe(1_800_000_100);
    await notBefore.raise('iss', 1_800_000_200);
    expect(await notBefore.get('iss')).toBe(1_800_000_200);
    expect(await notBefore.get('other-iss')).toBe(0);
  });

  it('when a session is destroyed with a tombstone, then it loads as a revoked stand-in that is never written back', async () => {
    const sid = randomUUID();
    const cookie = { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000).toISOString(), httpOnly: true, path: '/' };
    const data = { cookie, auth: { sub: 'u1' } } as never;
    await twin.store.write(sid, data);
    expect((await twin.store.read(sid))?.auth).toEqual({ sub: 'u1' });
    await createTombstones(twin.kv, twin.prefix).put(sid, { reason: 'logout', at: new Date().toISOString() }, 60_000);
    await twin.store.remove(sid);
    expect(await twin.store.read(sid)).toBeNull();
    const loaded = await new Promise<Record<string, unknown> | null | undefined>((resolve, reject) =>
      twin.store.get(sid, (err, value) => (err ? reject(err) : resolve(value as never))),
    );
    expect(loaded?.revoked).toMatchObject({ reason: 'logout' });
    await twin.store.write(sid, loaded as never);
    expect(await twin.store.read(sid)).toBeNull();
  });

  it('when a session record is written after its revocation (a sign-in or refresh racing a logout), then the write says revoked and the record is gone; a record beside a tombstone loads as revoked', async () => {
    const sid = randomUUID();
    const cookie = { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000).toISOString(), httpOnly: true, path: '/' };
    const data = { cookie, auth: { sub: 'u2' } } as never;
    await createTombstones(twin.kv, twin.prefix).put(sid, { reason: 'backchannel_logout', at: new Date().toISOString() }, 60_000);
    expect(await twin.store.write(sid, data)).toBe('revoked');
    expect(await twin.store.read(sid)).toBeNull();
    // express-session's own save path reports it as a 401 session_revoked.
    const saved = await new Promise<unknown>((resolve) => twin.store.set(sid, data, (err) => resolve(err)));
    expect(saved).toMatchObject({ status: 401, code: 'session_revoked' });
    // A record present beside its tombstone (a SET that timed out and ran late) never reads as live.
    const other = randomUUID();
    expect(await twin.store.write(other, data)).toBe('written');
    await createTombstones(twin.kv, twin.prefix).put(other, { reason: 'backchannel_logout', at: new Date().toISOString() }, 60_000);
    expect(await twin.store.read(other)).not.toBeNull();
    const loaded = await new Promise<Record<string, unknown> | null | undefined>((resolve, reject) =>
      twin.store.get(other, (err, value) => (err ? reject(err) : resolve(value as never))),
    );
    expect(loaded?.revoked).toMatchObject({ reason: 'backchannel_logout' });
    expect(loaded?.auth).toBeUndefined();
  });

  it('when an event is published, then listeners of that topic on every replica get it, others do not', async () => {
    const topic = `t:${randomUUID()}`;
    const got: AppEvent[] = [];
    const gotOther: AppEvent[] = [];
    const unrelated: AppEvent[] = [];
    const listenerA = (e: AppEvent) => void got.push(e);
    const listenerB = (e: AppEvent) => void gotOther.push(e);
    const listenerC = (e: AppEvent) => void unrelated.push(e);
    twin.bus.subscribe(topic, listenerA);
    twin.otherBus.subscribe(topic, listenerB);
    twin.otherBus.subscribe(`${topic}:other`, listenerC);
    const event = createEvent('hello', { n: 1 });
    await twin.otherBus.publish(topic, event);
    await expect.poll(() => got.length + gotOther.length).toBe(2);
    expect(got[0]).toEqual(event);
    expect(gotOther[0]).toEqual(event);
    twin.bus.unsubscribe(topic, listenerA);
    await twin.bus.publish(topic, createEvent('second'));
    await expect.poll(() => gotOther.length).toBe(2);
    expect(got).toHaveLength(1);
    expect(unrelated).toHaveLength(0);
    twin.otherBus.unsubscribe(topic, listenerB);
    twin.otherBus.unsubscribe(`${topic}:other`, listenerC);
  });

  it('when two listeners share a topic and one leaves, then the other still receives', async () => {
    const topic = `t:${randomUUID()}`;
    const first: AppEvent[] = [];
    const second: AppEvent[] = [];
    const listener1 = (e: AppEvent) => void first.push(e);
    const listener2 = (e: AppEvent) => void second.push(e);
    twin.bus.subscribe(topic, listener1);
    twin.bus.subscribe(topic, listener2);
    twin.bus.unsubscribe(topic, listener1);
    await twin.otherBus.publish(topic, createEvent('x'));
    await expect.poll(() => second.length).toBe(1);
    expect(first).toHaveLength(0);
    twin.bus.unsubscribe(topic, listener2);
    expect(twin.bus.listenerCount).toBe(0);
  });
});
