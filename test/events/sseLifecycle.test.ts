import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisUrlForTests } from '../support/sharedRedis.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn, startWorld, type World } from '../support/world.js';

describe('GET /api/events: streams that end while they are being set up', () => {
  let world: World;
  let redis: Redis;
  beforeAll(async () => {
    world = await startWorld({ replicas: 1 });
    redis = new Redis(await redisUrlForTests());
  });
  afterAll(async () => {
    redis?.disconnect();
    await world?.close();
  });

  const channels = async () => (await redis.pubsub('CHANNELS', `${world.prefix}ev:*`)) as string[];

  /** Opens a stream over a bare socket and drops it `afterMs` later, whatever state it is in by then. */
  const openAndDrop = (cookie: string, afterMs: number) =>
    new Promise<void>((resolve) => {
      const { port } = new URL(world.apps[0]!.url);
      const socket = connect({ host: '127.0.0.1', port: Number(port) });
      socket.once('connect', () => {
        socket.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nCookie: ${cookie}\r\n\r\n`);
        setTimeout(() => socket.destroy(), afterMs);
      });
      socket.once('close', () => resolve());
      socket.on('error', () => undefined);
    });

  it('when 300 clients each drop their stream 0–3 ms after asking for it, then no subscription, listener or stream is left behind', async () => {
    const agent = new UserAgent();
    await signIn(agent, world, 'alice');
    const cookie = agent.cookieHeader(world.baseUrl);
    const { sse, bus } = world.apps[0]!.services;
    const channelsBefore = await channels();

    // Bounded: 30 rounds of 10 concurrent open-and-drop cycles, each drop at a different moment of the set-up.
    for (let round = 0; round < 30; round++) {
      await Promise.all(Array.from({ length: 10 }, (_, i) => openAndDrop(cookie, (round + i) % 4)));
    }

    await expect.poll(() => sse.size, { timeout: 5000 }).toBe(0);
    await expect.poll(() => bus.listenerCount, { timeout: 5000 }).toBe(0);
    await expect.poll(channels, { timeout: 5000 }).toEqual(channelsBefore);
    // And the replica still serves streams afterwards.
    const stream = await fetch(`${world.apps[0]!.url}/api/events`, { headers: { cookie, accept: 'text/event-stream' } });
    expect(stream.status).toBe(200);
    await stream.body?.cancel();
  });
});
