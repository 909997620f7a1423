// The floor for sseMemory.ts: a bare node:http server holding event streams the way the app's hub
// does (same headers and first frame, one shared heartbeat timer), and nothing else. With
// BENCH_SSE_TAKE=1 (target `bare-taken`, run under tsx) each stream's connection is taken from
// node:http once its head is sent, as the hub does (src/events/takeConnection.ts).
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

const take = process.env.BENCH_SSE_TAKE === '1' ? (await import('../../src/events/takeConnection.ts')).takeConnection : undefined;
const streams = new Set();
const headers = () => ({
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-store, no-transform',
  'X-Accel-Buffering': 'no',
  'X-Content-Type-Options': 'nosniff',
  'X-Request-Id': randomUUID(),
  Vary: 'Origin',
  'Access-Control-Allow-Credentials': 'true',
});
const server = createServer((req, res) => {
  if (take) return holdTaken(take(req, res, 200, headers()));
  res.writeHead(200, { ...headers(), Connection: 'keep-alive' });
  res.write('retry: 3000\ndata: connected\n\n');
  streams.add(res);
  res.on('close', () => streams.delete(res));
});
// Apart from the request listener: a closure made in there would keep its `res` (V8 contexts).
function holdTaken(socket) {
  socket.on('error', () => undefined);
  socket.on('end', () => socket.destroy());
  socket.on('close', () => streams.delete(socket));
  socket.resume();
  socket.write('retry: 3000\ndata: connected\n\n');
  streams.add(socket);
}
setInterval(() => {
  for (const stream of streams) stream.write(': ping\n\n');
}, 15_000).unref();
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
