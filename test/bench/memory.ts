/**
 * Memory of one replica for the Kubernetes resource requests and limits (README "Deploy"). Loopback
 * only, bounded in time.
 *
 *   npm run bench:memory -- [streams=1000] [seconds=10] [connections=50]
 *
 * The built server (`npm start`'s dist/server.js) on local Redis and PostgreSQL: RSS when idle and
 * ready, then its peak while it holds `streams` open event streams and wrk sends authenticated
 * `GET /api/posts` over `connections` connections for `seconds`, and the RSS after a full GC.
 */
import { readFileSync } from 'node:fs';
import { startSingleReplica } from './singleReplica.js';
import { openRawStream } from './sseSockets.js';
import { runWrk } from './wrk.js';

const [streamsArg = '1000', secondsArg = '10', connectionsArg = '50'] = process.argv.slice(2);
const streamCount = Number(streamsArg);

const stack = await startSingleReplica();
const { replica } = stack;
const mib = (kib: number) => Math.round(kib / 1024);
const peakKiB = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${replica.pid}/status`, 'utf8'))?.[1] ?? NaN);

try {
  await new Promise((resolve) => setTimeout(resolve, 3000));
  await replica.collectGarbage();
  const idle = replica.rssKiB();

  const sessions = await stack.seed(Math.max(1, Math.ceil(streamCount / 10)));
  const headers = { cookie: sessions[0]!.cookie, 'content-type': 'application/json', 'x-csrf': '1', origin: replica.url };
  for (let i = 0; i < 20; i++) {
    await fetch(`${replica.url}/api/posts`, { method: 'POST', headers, body: JSON.stringify({ title: `Post ${i}`, body: 'Lorem ipsum dolor sit amet. '.repeat(20) }) });
  }
  const streams = Array.from({ length: streamCount }, (_, i) => openRawStream(`${replica.url}/api/events`, sessions[i % sessions.length]!.cookie));
  await Promise.all(streams.map((s) => s.connected));
  const withStreams = replica.rssKiB();
  const load = await runWrk({ url: `${replica.url}/api/posts`, seconds: Number(secondsArg), connections: Number(connectionsArg), headers: { cookie: sessions[0]!.cookie } });
  const underLoad = replica.rssKiB();
  const peak = peakKiB();
  for (const stream of streams) stream.socket.destroy();
  await replica.collectGarbage();
  const after = replica.rssKiB();
  const row = {
    'idle RSS MiB': mib(idle),
    [`${streamCount} streams RSS MiB`]: mib(withStreams),
    'end of load RSS MiB': mib(underLoad),
    'peak RSS (VmHWM) MiB': mib(peak),
    'after GC MiB': mib(after),
    'req/s': load.requestsPerSecond,
    'non-2xx': load.non2xx,
  };
  console.table([row]);
  console.log(JSON.stringify(row));
} finally {
  await stack.stop();
}
process.exit(0);
