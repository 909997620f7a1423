// The floor for sseMemory.ts: a bare node:http server holding event streams the way the app's hub
// does (same headers and first frame, one shared heartbeat timer), and nothing else.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

const streams = new Set();
const server = createServer((req, res) => {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-store, no-transform',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
    'X-Content-Type-Options': 'nosniff',
    'X-Request-Id': randomUUID(),
    Vary: 'Origin',
    'Access-Control-Allow-Credentials': 'true',
  });
  res.write('retry: 3000\ndata: connected\n\n');
  streams.add(res);
  res.on('close', () => streams.delete(res));
});
setInterval(() => {
  for (const res of streams) res.write(': ping\n\n');
}, 15_000).unref();
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
