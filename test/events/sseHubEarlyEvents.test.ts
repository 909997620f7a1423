import type { Request, Response } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent, topics, type EventBus } from '../../src/events/eventBus.js';
import { createMemoryBus } from '../../src/events/memoryBus.js';
import { createSseHub } from '../../src/events/sseHub.js';
import { createLogger } from '../../src/logger.js';
import { listenOnLoopback, urlOf } from '../support/testApp.js';
import type { Server } from 'node:http';

/**
 * An event published while a stream is being opened (seen in the rolling restart: 200 streams
 * reconnecting to one replica while posts were being written) was once written before the stream's
 * headers, so the headers threw ERR_HTTP_HEADERS_SENT and the client got a 200 without a stream.
 * The hub now registers and answers in one tick; this holds it to that.
 */
describe('SSE hub: an event heard before the stream is answered', () => {
  const owner = { sessionId: 'sid-1', sessionHandle: 'handle-1', issuer: 'https://op.example', sub: 'alice' };
  const failures: string[] = [];
  let server: Server;
  let url: string;

  beforeAll(async () => {
    const log = createLogger({ level: 'silent' });
    const memory = createMemoryBus(log);
    // The memory bus, except that an event arrives as soon as anything can run after the stream's
    // first subscription, as a message on Redis can.
    const bus: EventBus = {
      ...memory,
      subscribe(topic, listener) {
        memory.subscribe(topic, listener);
        if (topic === topics.session(owner.sessionHandle)) queueMicrotask(() => listener(createEvent('post_created', { postId: 7 })));
      },
    };
    const hub = createSseHub({
      bus,
      heartbeatMs: 60_000,
      retryMs: 1000,
      maxBufferedBytes: 65_536,
      revocationOf: async () => null,
      tombstoneOf: async () => null,
      log,
    });
    server = await listenOnLoopback();
    server.on('request', (req, res) => {
      hub.open(req as Request, res as Response, owner).catch((err: Error) => {
        failures.push(err.message);
        res.destroy();
      });
    });
    url = urlOf(server);
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('answers with the stream\'s headers, then `connected`, then the event', async () => {
    const controller = new AbortController();
    const response = await fetch(url, { signal: controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    let text = '';
    const decoder = new TextDecoder();
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      if (text.includes('event: post_created')) break;
    }
    controller.abort();
    expect(text.indexOf('data: connected')).toBeGreaterThanOrEqual(0);
    expect(text.indexOf('data: connected')).toBeLessThan(text.indexOf('event: post_created'));
    expect(failures).toEqual([]);
  });
});
