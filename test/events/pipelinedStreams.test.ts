import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createEvent, topics } from '../../src/events/eventBus.js';
import { createMemoryBus } from '../../src/events/memoryBus.js';
import { createSseHub, type SseHub } from '../../src/events/sseHub.js';
import { createGracefulShutdown } from '../../src/http/gracefulShutdown.js';
import { createLogger } from '../../src/logger.js';

const log = createLogger({ level: 'silent' });
let server: Server | undefined;
let hub: SseHub | undefined;
afterEach(async () => {
  hub?.close();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server?.listening ? server.close(() => resolve()) : resolve()));
  server = undefined;
  hub = undefined;
});

// Requests pipelined on one connection behind one that never finishes by itself (an event stream,
// a slow request): node:http never answers them, nor tells anyone when the connection closes. The
// server answers /slow only at shutdown, /events as a stream once the "session" has loaded, the
// rest at once.
describe('requests pipelined behind an unfinished response', () => {

  async function start() {
    hub = createSseHub({
      bus: createMemoryBus(log),
      heartbeatMs: 60_000,
      retryMs: 1000,
      maxBufferedBytes: 1 << 16,
      revocationOf: async () => null,
      tombstoneOf: async () => null,
      log,
    });
    const slow: ServerResponse[] = [];
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      if (req.url === '/slow') return void slow.push(res);
      if (req.url !== '/events') return void res.end('ok');
      // The session loads while node:http parses what the client pipelined behind.
      setTimeout(() => void hub!.open(req, res, { sessionId: 's1', sessionHandle: 'h1', issuer: 'https://op.example', sub: 'alice' }), 20);
    });
    const shutdown = createGracefulShutdown({
      server,
      beginDrain: () => undefined,
      streamCount: () => 0,
      endStreams: () => {
        hub!.close();
        for (const res of slow) res.end('late');
      },
      closeServices: async () => undefined,
      delayMs: 0,
      graceMs: 3000,
      log,
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return { port: (server.address() as AddressInfo).port, shutdown };
  }

  /** Writes `requests` in one write on one connection; resolves with all it reads until the server closes or `leaveAfterMs` passes. */
  function pipeline(port: number, requests: string[], leaveAfterMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(requests.map((path) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`).join('')));
      let read = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (read += chunk));
      socket.on('error', reject);
      const timer = setTimeout(() => socket.destroy(), leaveAfterMs);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(read);
      });
    });
  }

  it('when requests are pipelined behind a stream request, then it is not served as a stream: a retry hint and Connection: close, and shutdown finds nothing left in flight', async () => {
    const { port, shutdown } = await start();
    const read = await pipeline(port, ['/events', '/a', '/b', '/c'], 1000);
    expect(read).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(read).toMatch(/\r\nconnection: close\r\n/i);
    expect(read).toMatch(/\r\nretry: \d+\n\n\r\n0\r\n\r\n$/); // the hint, and the (chunked) body's end
    expect(read).not.toContain('data: connected');
    expect(await shutdown('SIGTERM')).toBe(0);
  });

  it('when a stream request is the last on its connection, then it is served as a stream', async () => {
    const { port } = await start();
    const read = await pipeline(port, ['/a', '/events'], 300);
    expect(read).toContain('retry: 1000\ndata: connected\n\n');
  });

  it('when a client pipelines requests behind a slow one and leaves, then shutdown does not wait for the responses node:http will never send', async () => {
    const { port, shutdown } = await start();
    for (let i = 0; i < 3; i++) await pipeline(port, ['/slow', ...Array.from({ length: 20 }, (_, j) => `/q${j}`)], 50);
    expect(await shutdown('SIGTERM')).toBe(0);
  });
});

describe('an ended stream whose client has stopped reading', () => {

  it('when its last frames cannot be delivered, then its connection is cut after a few idle seconds instead of held for good', async () => {
    const bus = createMemoryBus(log);
    hub = createSseHub({
      bus,
      heartbeatMs: 60_000,
      retryMs: 1000,
      maxBufferedBytes: 64 << 20,
      revocationOf: async () => null,
      tombstoneOf: async () => null,
      log,
    });
    server = createServer((req, res) => void hub!.open(req, res, { sessionId: 's1', sessionHandle: 'h1', issuer: 'https://op.example', sub: 'alice' }));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    client.on('error', () => undefined);
    client.write('GET /events HTTP/1.1\r\nHost: x\r\n\r\n');
    client.once('data', () => client.pause()); // the head and the first frame, then it reads no more
    const connections = () => new Promise<number>((resolve, reject) => server!.getConnections((err, count) => (err ? reject(err) : resolve(count))));
    await expect.poll(connections).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 100));

    // More than the kernel's buffers on both sides of a loopback connection hold (a few MiB each).
    const filler = 'x'.repeat(256 * 1024);
    for (let i = 0; i < 64; i++) bus.publish(topics.session('h1'), createEvent('board_changed', { filler }));
    bus.publish(topics.session('h1'), createEvent('session_invalidated', { reason: 'logout' }));
    expect(await connections()).toBe(1);
    await expect.poll(connections, { timeout: 25_000, interval: 200 }).toBe(0);
    client.destroy();
  }, 35_000);
});
