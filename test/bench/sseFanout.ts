/**
 * CPU per board event fanned out to N open streams: this checkout's hub against another checkout's
 * (`root`), each loaded from its own src/ into this process, on a bare node:http server and the
 * in-process bus. The clients are raw sockets that stop reading once connected (the frames wait in
 * the kernel), so the process's CPU time is the hub's: serialising the event once, writing it to
 * every stream. Then `samples` times: one more stream opens, and its session's `session_invalidated`
 * is published; the time until its client reads it ("delivered", p50 and p90, with all N streams
 * open). Variants alternate; medians of the rounds.
 *
 *   npx tsx test/bench/sseFanout.ts [streams=2000] [events=100] [samples=100] [rounds=5] [root=/other/checkout]
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const options = Object.fromEntries(process.argv.slice(2).map((arg) => [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]));
const streamCount = Number(options.streams ?? 2000);
const eventCount = Number(options.events ?? 100);
const rounds = Number(options.rounds ?? 5);
const samples = Number(options.samples ?? 100);
const ROOT = new URL('../..', import.meta.url).pathname;
const variants = [{ name: 'this checkout', root: ROOT }, ...(options.root ? [{ name: 'baseline', root: options.root }] : [])];

type Figures = { cpuMicrosecondsPerEvent: number; deliveredP50Ms: number; deliveredP90Ms: number };
const results = new Map<string, Figures[]>(variants.map((v) => [v.name, []]));
for (let round = 0; round < rounds; round++) {
  for (const variant of round % 2 === 0 ? variants : [...variants].reverse()) {
    const figures = await measure(variant.root);
    results.get(variant.name)!.push(figures);
    console.log(JSON.stringify({ variant: variant.name, round, streams: streamCount, ...figures }));
  }
}
const median = (list: number[]) => [...list].sort((x, y) => x - y)[Math.floor((list.length - 1) / 2)]!;
const medians = (list: Figures[]): Figures => ({
  cpuMicrosecondsPerEvent: median(list.map((f) => f.cpuMicrosecondsPerEvent)),
  deliveredP50Ms: median(list.map((f) => f.deliveredP50Ms)),
  deliveredP90Ms: median(list.map((f) => f.deliveredP90Ms)),
});
const rows: Record<string, Figures> = Object.fromEntries([...results].map(([name, list]) => [name, medians(list)]));
if (options.root) {
  const [x, y] = [rows['this checkout']!, rows.baseline!];
  rows['ratio (this / baseline)'] = {
    cpuMicrosecondsPerEvent: round2(x.cpuMicrosecondsPerEvent / y.cpuMicrosecondsPerEvent),
    deliveredP50Ms: round2(x.deliveredP50Ms / y.deliveredP50Ms),
    deliveredP90Ms: round2(x.deliveredP90Ms / y.deliveredP90Ms),
  };
}
console.table(rows);
process.exit(0);

async function measure(root: string): Promise<Figures> {
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

  const delivered: number[] = [];
  for (let i = 0; i < samples; i++) {
    const id = String(next);
    const { socket, invalidated } = await openReading(port);
    const at = performance.now();
    await bus.publish(topics.session(`h-${id}`), createEvent('session_invalidated', { reason: 'revoked' }));
    delivered.push((await invalidated) - at);
    socket.destroy();
  }
  delivered.sort((x, y) => x - y);
  hub.close();
  for (const client of clients) client.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return {
    cpuMicrosecondsPerEvent: Math.round((used.user + used.system) / eventCount),
    deliveredP50Ms: round2(delivered[Math.floor(delivered.length * 0.5)]!),
    deliveredP90Ms: round2(delivered[Math.floor(delivered.length * 0.9)]!),
  };
}

/** A stream's client that keeps reading: resolves once connected, `invalidated` when its event arrives. */
async function openReading(port: number): Promise<{ socket: Socket; invalidated: Promise<number> }> {
  const socket = connect({ host: '127.0.0.1', port });
  let seen = '';
  let onInvalidated!: (at: number) => void;
  const invalidated = new Promise<number>((resolve) => (onInvalidated = resolve));
  await new Promise<void>((resolve, reject) => {
    socket.on('connect', () => socket.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`));
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      const at = performance.now();
      seen += chunk.toString('latin1');
      if (seen.includes('data: connected\n\n')) resolve();
      if (seen.includes('event: session_invalidated')) onInvalidated(at);
    });
  });
  return { socket, invalidated };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
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
