import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OwnRedis } from '../support/ownRedis.js';
import { sessionIdOf } from '../support/sessionIds.js';
import { openSse } from '../support/sseClient.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn, startWorld, type World } from '../support/world.js';

// Breaks Redis connections, so it runs on a redis-server of its own.
describe('GET /api/events when the Redis subscriber of the replica holding the stream reconnects', () => {
  let redisServer: OwnRedis;
  let world: World;
  let admin: Redis;
  beforeAll(async () => {
    world = await startWorld({ replicas: 2, ownRedis: true });
    redisServer = world.redis!;
    admin = new Redis(redisServer.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await world?.close();
  });

  const [A, B] = [0, 1];
  const at = (replica: number, path: string) => `${world.apps[replica]!.url}${path}`;
  const channel = () => `${world.prefix}ev:all`;
  const subscribers = async () => ((await admin.pubsub('NUMSUB', channel())) as [string, number])[1];

  it('when a session is revoked while the subscriber is disconnected, then its stream is told once the subscriber is back, and the other streams get resync', async () => {
    const alice = new UserAgent();
    const bob = new UserAgent();
    await signIn(alice, world, 'alice');
    await signIn(bob, world, 'bob');
    const aliceStream = await openSse(at(B, '/api/events'), { cookie: alice.cookieHeader(world.baseUrl) });
    const bobStream = await openSse(at(B, '/api/events'), { cookie: bob.cookieHeader(world.baseUrl) });
    await aliceStream.next((m) => m.data === 'connected');
    await bobStream.next((m) => m.data === 'connected');
    const providerSid = (await world.apps[A]!.services.store.read(sessionIdOf(alice, world.baseUrl)))!.auth!.providerSid!;
    const token = await world.op.signLogoutToken({ sid: providerSid, sub: 'alice' });
    expect(await subscribers()).toBe(2);

    // Kill the subscriber connections (both replicas': each names itself board-bff:subscriber), and
    // keep them from coming back until the revocation has been published to nobody: the server takes
    // no new connection while maxclients is below the number it holds.
    const connected = String(await admin.client('LIST')).trim().split('\n').length;
    await admin.config('SET', 'maxclients', String(connected - 2));
    try {
      await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      expect(await subscribers()).toBe(0);
      const posted = await fetch(at(A, '/auth/backchannel-logout'), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ logout_token: token }),
      });
      expect(posted.status).toBe(200);
      expect(await subscribers()).toBe(0);
    } finally {
      await admin.config('SET', 'maxclients', '10000');
    }

    const named = await aliceStream.next((m) => m.event === 'session_invalidated', 10_000);
    expect(JSON.parse(named.data)).toEqual({ type: 'session_invalidated', reason: 'backchannel_logout', at: expect.any(String) });
    await aliceStream.next((m) => m.event === undefined && m.data === 'session_invalidated');
    await aliceStream.ended;
    // Bob's session lives: his stream stays open and is told that events may have been missed.
    const resync = await bobStream.next((m) => m.event === 'resync', 10_000);
    expect(JSON.parse(resync.data)).toEqual({ type: 'resync', at: expect.any(String) });
    expect(bobStream.messages.some((m) => m.event === 'session_invalidated')).toBe(false);
    expect(await subscribers()).toBe(2);
    bobStream.close();
  });
});
