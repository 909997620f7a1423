/**
 * CPU per board event fanned out to N open streams: this checkout's hub against another checkout's
 * (`root`), each loaded from its own src/ into this process, on a bare node:http server and the
 * in-process bus. The clients are raw sockets that stop reading once connected (the frames wait in
 * the kernel), so the process's CPU time is the hub's: serialising the event once, writing it to
 * every stream. Variants alternate; medians of the rounds.
 *
 *   npx tsx test/bench/sseFanout.ts [streams=2000] [events=100] [rounds=5] [root=/other/checkout]
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const options = Object.fromEntries(process.argv.slice(2).map((arg) => [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]));
const streamCount = Number(options.streams ?? 2000);
const eventCount = Number(options.events ?? 100);
const rounds = Number(options.rounds ?? 5);
const ROOT = new URL('../..', import.meta.url).pathname;
const variants = [{ name: 'this checkout', root: ROOT }, ...(options.root ? [{ name: 'baseline', root: options.root }] : [])];

const results = new Map<string, number[]>(variants.map((v) => [v.name, []]));
for (let round = 0; round < rounds; round++) {
  for (const variant of round % 2 === 0 ? variants : [...variants].reverse()) {
    const microseconds = await measure(variant.root);
    results.get(variant.name)!.push(microseconds);
    console.log(JSON.stringify({ variant: variant.name, round, streams: streamCount, cpuMicrosecondsPerEvent: microseconds }));
  }
}
const median = (list: number[]) => [...list].sort((x, y) => x - y)[Math.floor((list.length - 1) / 2)]!;
const rows: Record<string, Record<string, number>> = Object.fromEntries(
  [...results].map(([name, list]) => [name, { 'CPU µs per event': median(list), 'CPU µs per event and stream': Math.round((median(list) / streamCount) * 100) / 100 }]),
);
if (options.root) rows['ratio (this / baseline)'] = { 'CPU µs per event': Math.round((median(results.get('this checkout')!) / median(results.get('baseline')!)) * 100) / 100 };
console.table(rows);
process.exit(0);

async function measure(root: string): Promise<number> {
  const src = (file: string) => pathToFileURL(join(root, 'src', file)).href;
  const { createSseHub } = (await import(src('events/sseHub.ts'))) as typeof import('../../src/events/sseHub.js');
  const { createMemoryBus } = (await import(src('events/memoryBus.ts'))) as typeof import('../../src/events/memoryBus.js');
  const { createEvent, topics } = (await import(src('events/eventBus.ts'))) as typeof import('../../src/events/eventBus.js');
  const { createLogger } = (await import(src('logger.ts'))) as typeof import('../../src/logger.js');
  const log = createLogger({ level: 'silent' });
  const bus = createMemoryBus(log);
  const hub = createSseHub({ bus, heartbeatMs: 3_600_000, retryMs: 3000, maxBufferedBytes: 1 << 20, revocationOf: async () => null, tombstoneOf: async () => null, log });
  let next = 0;
  const server: Server = createServer((req, res) => {
    const id = String(next++);
    void hub.open(req, res, { sessionId: id, sessionHandle: `h-${id}`, issuer: 'https://op.example', sub: id });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const clients: Socket[] = [];
  for (let i = 0; i < streamCount; i += 200) {
    clients.push(...(await Promise.all(Array.from({ length: Math.min(200, streamCount - i) }, () => openPaused(port)))));
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  const event = () => createEvent('board_changed', { kind: 'comment_created', postId: 'p-1234567890', commentId: 'c-1234567890' });
  const started = process.cpuUsage();
  for (let i = 0; i < eventCount; i++) {
    await bus.publish(topics.broadcast, event());
    await new Promise((resolve) => setImmediate(resolve));
  }
  const used = process.cpuUsage(started);
  hub.close();
  for (const client of clients) client.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return Math.round((used.user + used.system) / eventCount);
}

/** A stream's client: reads until `data: connected`, then stops reading. */
function openPaused(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let seen = '';
    socket.on('connect', () => socket.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`));
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      seen += chunk.toString('latin1');
      if (seen.includes('data: connected\n\n')) {
        socket.pause();
        socket.removeAllListeners('data');
        resolve(socket);
      }
    });
  });
}
