import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { redisUrlForTests } from '../support/sharedRedis.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent, topics } from '../../src/events/eventBus.js';
import { sessionIdOf } from '../support/sessionIds.js';
import { openSse } from '../support/sseClient.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn, startWorld, type World } from '../support/world.js';
import { sessionHandleOf } from '../../src/sessions/sessionHandle.js';

describe('GET /api/events across two replicas sharing Redis', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ replicas: 2, env: { SSE_HEARTBEAT_SECONDS: '1', SSE_RETRY_MS: '2500', SSE_MAX_BUFFERED_BYTES: '4096' } });
  });
  afterAll(() => world?.close());

  const [A, B] = [0, 1];
  const at = (replica: number, path: string) => `${world.apps[replica]!.url}${path}`;
  const streamFor = (agent: UserAgent, replica: number) => openSse(at(replica, '/api/events'), { cookie: agent.cookieHeader(world.baseUrl) });

  it('when the provider logs alice out through replica A, then her stream on replica B gets session_invalidated and ends; bob\'s stream gets nothing', async () => {
    const alice = new UserAgent();
    const bob = new UserAgent();
    await signIn(alice, world, 'alice');
    await signIn(bob, world, 'bob');
    const aliceStream = await streamFor(alice, B);
    const bobStream = await streamFor(bob, A);
    expect(aliceStream.status).toBe(200);
    expect(aliceStream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(aliceStream.headers.get('x-accel-buffering')).toBe('no');
    expect(aliceStream.headers.get('cache-control')).toMatch(/no-cache/);
    await aliceStream.next((m) => m.event === undefined && m.data === 'connected');
    await bobStream.next((m) => m.data === 'connected');
    expect(aliceStream.retries).toEqual([2500]);

    const providerSid = (await world.apps[A]!.services.store.read(sessionIdOf(alice, world.baseUrl)))!.auth!.providerSid!;
    const token = await world.op.signLogoutToken({ sid: providerSid, sub: 'alice' });
    const posted = await fetch(at(A, '/auth/backchannel-logout'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: token }),
    });
    expect(posted.status).toBe(200);

    const named = await aliceStream.next((m) => m.event === 'session_invalidated');
    expect(named.id).toMatch(/^[\w-]{8,}$/);
    const data = JSON.parse(named.data) as Record<string, string>;
    expect(data).toEqual({ type: 'session_invalidated', reason: 'backchannel_logout', at: expect.any(String) });
    expect(new Date(data.at!).toISOString()).toBe(data.at);
    await aliceStream.next((m) => m.event === undefined && m.data === 'session_invalidated');
    await aliceStream.ended;

    for (const replica of [A, B]) {
      const answer = await alice.fetch(at(replica, '/api/user'));
      expect(answer.status).toBe(401);
      expect(await answer.json()).toMatchObject({ error: 'session_revoked' });
    }
    const reconnect = await streamFor(alice, A);
    expect(reconnect.status).toBe(401);

    // Bob's stream: the next thing it hears is a marker sent to his own session, nothing before it.
    const bobHandle = sessionHandleOf(sessionIdOf(bob, world.baseUrl));
    await world.apps[B]!.services.bus.publish(topics.session(bobHandle), createEvent('marker'));
    await bobStream.next((m) => m.event === 'marker');
    expect(bobStream.messages.map((m) => m.event ?? m.data)).toEqual(['connected', 'marker']);
    bobStream.close();
  });

  it('when a stream stays open, then heartbeat comments arrive', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'carol');
    const stream = await streamFor(agent, A);
    await stream.next((m) => m.data === 'connected');
    await expect.poll(() => stream.comments.includes('ping'), { timeout: 5000 }).toBe(true);
    stream.close();
  });

  it('when a client disconnects, then its listeners are released; the replica keeps its one subscription to the event channel', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'alice');
    const { sse: hub, bus } = world.apps[B]!.services;
    const [streamsBefore, listenersBefore] = [hub.size, bus.listenerCount];
    const stream = await streamFor(agent, B);
    await stream.next((m) => m.data === 'connected');
    expect(hub.size).toBe(streamsBefore + 1);
    // Its session's and its user's topic; the hub's one broadcast listener comes with its first stream.
    expect(bus.listenerCount).toBe(listenersBefore + (streamsBefore === 0 ? 3 : 2));
    const redis = new Redis(await redisUrlForTests());
    try {
      // One shared channel, subscribed once by each replica, whatever the number of streams.
      expect(await redis.pubsub('CHANNELS', `${world.prefix}ev:*`)).toEqual([`${world.prefix}ev:all`]);
      expect(await redis.pubsub('NUMSUB', `${world.prefix}ev:all`)).toEqual([`${world.prefix}ev:all`, 2]);
      stream.close();
      await expect.poll(() => hub.size, { timeout: 5000 }).toBe(streamsBefore);
      expect(bus.listenerCount).toBe(listenersBefore);
      expect(await redis.pubsub('NUMSUB', `${world.prefix}ev:all`)).toEqual([`${world.prefix}ev:all`, 2]);
    } finally {
      redis.disconnect();
    }
  });

  it('when a client stops reading, then its stream is dropped once its buffer passes the cap', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'bob');
    const port = Number(new URL(world.apps[A]!.url).port);
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${agent.cookieHeader(world.baseUrl)}\r\n\r\n`);
    const hub = world.apps[A]!.services.sse;
    await expect.poll(() => hub.size, { timeout: 5000 }).toBeGreaterThan(0);
    socket.pause();
    const closed = new Promise((resolve) => socket.once('close', resolve));
    const handle = sessionHandleOf(sessionIdOf(agent, world.baseUrl));
    const big = 'x'.repeat(64 * 1024);
    // Bounded: at most 400 × 64 KiB; loopback socket buffers fill long before that.
    for (let i = 0; i < 400 && !socket.destroyed; i++) {
      await world.apps[A]!.services.bus.publish(topics.session(handle), createEvent('bulk', { big }));
      if (i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 10));
      if (socket.readableEnded || (socket as unknown as { closed?: boolean }).closed) break;
    }
    socket.resume();
    await closed;
    const dropped = await world.apps[A]!.services.metrics.sseDropped.get();
    expect(dropped.values[0]?.value).toBeGreaterThanOrEqual(1);
  });

  it('when a stream is asked for from a foreign origin, then the answer does not allow that origin to read it', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'bob');
    const stream = await openSse(at(A, '/api/events'), { cookie: agent.cookieHeader(world.baseUrl), origin: 'https://evil.example' });
    expect(stream.headers.get('access-control-allow-origin')).toBeNull();
    expect(stream.headers.get('vary')).toMatch(/Origin/);
    stream.close();
  });

  it('when there is no session, then the stream is refused with 401', async () => {
    const stream = await openSse(at(A, '/api/events'));
    expect(stream.status).toBe(401);
  });

  it('when a stream from an allowed origin opens and the replica later ends its streams (as on SIGTERM), then it carried CORS and request-id headers, and the session is still signed in', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'carol');
    const stream = await openSse(at(B, '/api/events?since=now'), { cookie: agent.cookieHeader(world.baseUrl), origin: world.baseUrl, 'x-request-id': 'req-sse-1' });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('access-control-allow-origin')).toBe(world.baseUrl);
    expect(stream.headers.get('access-control-allow-credentials')).toBe('true');
    expect(stream.headers.get('x-request-id')).toBe('req-sse-1');
    expect(stream.headers.get('set-cookie')).toBeNull();
    // The body is delimited by the connection's close (the hub holds the socket, not node:http's response).
    expect(stream.headers.get('connection')).toBe('close');
    expect(stream.headers.get('transfer-encoding')).toBeNull();
    await stream.next((m) => m.data === 'connected');
    // Last in this file: replica B stops serving streams here.
    world.apps[B]!.services.sse.closeAll();
    await stream.ended;
    // A stream neither renews nor deletes the session it was opened for.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await agent.fetch(at(A, '/api/user'))).status).toBe(200);
  });
});
