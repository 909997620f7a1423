import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createEvent, topics } from '../../src/events/eventBus.js';
import { createMemoryBus } from '../../src/events/memoryBus.js';
import { createSseHub, type SseHub } from '../../src/events/sseHub.js';
import { createLogger } from '../../src/logger.js';
import type { Revocation } from '../../src/sessions/revocation.js';
import { openSse } from '../support/sseClient.js';

const log = createLogger({ level: 'silent' });

// The hub alone on a bare Node server, over the in-process bus, with a gap raised by hand: what it
// does after a gap must not depend on being able to break a Redis connection at the right moment.
describe('SSE hub after a bus gap', () => {
  let server: Server | undefined;
  let hub: SseHub | undefined;
  afterEach(async () => {
    hub?.close();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it('when the tombstone reads fail at first, then the re-check is retried until it can tell the revoked stream', async () => {
    const bus = createMemoryBus(log);
    let raiseGap!: () => void;
    bus.onGap = (callback) => void (raiseGap = callback);
    const tombstones = new Map<string, Revocation>();
    let failures = 2;
    hub = createSseHub({
      bus,
      heartbeatMs: 60_000,
      retryMs: 1000,
      maxBufferedBytes: 1 << 16,
      revocationOf: async () => null,
      tombstoneOf: async (sid) => {
        if (failures > 0) {
          failures--;
          throw new Error('Redis is unavailable');
        }
        return tombstones.get(sid) ?? null;
      },
      log,
    });
    server = createServer((req, res) => {
      const sid = new URL(req.url!, 'http://x').searchParams.get('sid')!;
      void hub!.open(req, res, { sessionId: sid, sessionHandle: `h-${sid}`, issuer: 'https://op.example', sub: sid });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = (sid: string) => `http://127.0.0.1:${(server!.address() as AddressInfo).port}/?sid=${sid}`;
    const revoked = await openSse(url('one'));
    const live = await openSse(url('two'));
    await revoked.next((m) => m.data === 'connected');
    await live.next((m) => m.data === 'connected');

    tombstones.set('one', { reason: 'backchannel_logout', at: '2026-11-30T06:00:00.000Z' });
    raiseGap();

    const told = await revoked.next((m) => m.event === 'session_invalidated', 10_000);
    expect(JSON.parse(told.data)).toEqual({ type: 'session_invalidated', reason: 'backchannel_logout', at: '2026-11-30T06:00:00.000Z' });
    await revoked.ended;
    await live.next((m) => m.event === 'resync', 10_000);
    expect(failures).toBe(0);
    expect(hub.size).toBe(1);
    live.close();
    await expect.poll(() => hub!.size).toBe(0);
    expect(bus.listenerCount).toBe(0);
  });

  it('when two streams are open and a broadcast event is published, then each gets it once, through the hub\'s one broadcast listener, released with the last stream', async () => {
    const bus = createMemoryBus(log);
    hub = createSseHub({ bus, heartbeatMs: 60_000, retryMs: 2000, maxBufferedBytes: 1 << 16, revocationOf: async () => null, tombstoneOf: async () => null, log });
    server = createServer((req, res) => {
      const sid = new URL(req.url!, 'http://x').searchParams.get('sid')!;
      void hub!.open(req, res, { sessionId: sid, sessionHandle: `h-${sid}`, issuer: 'https://op.example', sub: sid });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = (sid: string) => `http://127.0.0.1:${(server!.address() as AddressInfo).port}/?sid=${sid}`;
    const first = await openSse(url('one'));
    const second = await openSse(url('two'));
    await first.next((m) => m.data === 'connected');
    await second.next((m) => m.data === 'connected');
    // Each stream's session and user topics, and one broadcast listener for the hub (not one per stream).
    expect(bus.listenerCount).toBe(5);

    await bus.publish(topics.broadcast, createEvent('post_created', { postId: 7 }));
    for (const stream of [first, second]) {
      const got = await stream.next((m) => m.event === 'post_created');
      expect(JSON.parse(got.data)).toMatchObject({ type: 'post_created', postId: 7 });
    }
    await bus.publish(topics.session('h-one'), createEvent('marker'));
    await first.next((m) => m.event === 'marker');
    expect(first.messages.filter((m) => m.event === 'post_created')).toHaveLength(1);

    first.close();
    await expect.poll(() => hub!.size).toBe(1);
    expect(bus.listenerCount).toBe(3);
    second.close();
    await expect.poll(() => hub!.size).toBe(0);
    expect(bus.listenerCount).toBe(0);
  });

  it('when a stream opens after close() (its session was still loading at shutdown), then it gets the retry hint and its connection closes, and nothing is registered', async () => {
    const bus = createMemoryBus(log);
    hub = createSseHub({ bus, heartbeatMs: 60_000, retryMs: 2000, maxBufferedBytes: 1 << 16, revocationOf: async () => null, tombstoneOf: async () => null, log });
    let release!: () => void;
    const sessionLoaded = new Promise<void>((resolve) => (release = resolve));
    server = createServer((req, res) => {
      void sessionLoaded.then(() => hub!.open(req, res, { sessionId: 'late', sessionHandle: 'h-late', issuer: 'https://op.example', sub: 'late' }));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const connections = () => new Promise<number>((resolve) => server!.getConnections((_err, count) => resolve(count)));
    const late = openSse(`http://127.0.0.1:${(server!.address() as AddressInfo).port}/`);
    await expect.poll(connections).toBe(1); // the request is in, waiting for its session
    hub.close();
    release();

    const stream = await late;
    expect(stream.status).toBe(200);
    await stream.ended;
    expect(stream.retries).toHaveLength(1);
    expect(stream.retries[0]).toBeGreaterThanOrEqual(1000);
    expect(stream.retries[0]).toBeLessThanOrEqual(2000);
    expect(stream.messages).toEqual([]);
    expect(hub.size).toBe(0);
    expect(bus.listenerCount).toBe(0);
    await expect.poll(connections).toBe(0);
  });
});
