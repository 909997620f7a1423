/**
 * Board benchmark (README "Performance"). Loopback only, bounded in time.
 *
 *   npm run bench:board -- [seconds=5] [connections=50]      (env BENCH_NODE_FLAGS: extra node flags)
 *
 * One replica (the built server) on local Redis and PostgreSQL, one signed-in session, 50 posts.
 * wrk drives, over `connections` keep-alive connections: authenticated `GET /api/posts` (a page of
 * 20 posts of ~560 characters), then `POST /api/posts/:id/comments`, each after 2 s of warm-up.
 * A bare Node server under the same load is the baseline.
 */
import { withBareServer } from './replicas.js';
import { startSingleReplica } from './singleReplica.js';
import { runWrk } from './wrk.js';

const [secondsArg = '5', connectionsArg = '50'] = process.argv.slice(2);
const seconds = Number(secondsArg);
const connections = Number(connectionsArg);

// BENCH_NODE_FLAGS: node flags after `npm start`'s own (the later wins), to compare a flag's cost.
const extraFlags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
const stack = await startSingleReplica([...extraFlags, ...(process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [])]);
const { replica } = stack;

try {
  const [session] = await stack.seed(1);
  const headers = { cookie: session!.cookie, 'content-type': 'application/json', 'x-csrf': '1', origin: replica.url };
  let postId = 0;
  for (let i = 0; i < 50; i++) {
    const response = await fetch(`${replica.url}/api/posts`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ title: `Post ${i}`, body: 'Lorem ipsum dolor sit amet. '.repeat(20) }),
    });
    if (response.status !== 201) throw new Error(`seeding a post answered ${response.status}: ${await response.text()}`);
    postId = ((await response.json()) as { post: { id: number } }).post.id;
  }

  // Each route gets 2 s of warm-up (JIT) before the measured run; CPU time is the replica's.
  const measure = async (options: Parameters<typeof runWrk>[0]) => {
    await runWrk({ ...options, seconds: 2 });
    const cpuBefore = replica.cpuMs();
    const result = await runWrk(options);
    return { ...result, cpuMicrosecondsPerRequest: Math.round(((replica.cpuMs() - cpuBefore) * 1000) / result.requests) };
  };
  const list = await measure({ url: `${replica.url}/api/posts`, seconds, connections, headers: { cookie: session!.cookie } });
  const comment = await measure({
    url: `${replica.url}/api/posts/${postId}/comments`,
    seconds,
    connections,
    headers,
    script: `wrk.method = "POST"\nwrk.body = '{"body":"A benchmark comment, long enough to be realistic but not more."}'\n`,
  });
  const bare = await withBareServer((url) => runWrk({ url, seconds, connections }));
  const rows = [
    { route: 'GET /api/posts (20 per page)', ...summary(list) },
    { route: `POST /api/posts/:id/comments`, ...summary(comment) },
    { route: 'bare Node server (baseline)', ...summary(bare) },
  ];
  console.table(rows);
  console.log(JSON.stringify({ connections, seconds, rows }));
} finally {
  await stack.stop();
}
process.exit(0);

function summary(result: Awaited<ReturnType<typeof runWrk>> & { cpuMicrosecondsPerRequest?: number }) {
  return {
    'req/s': result.requestsPerSecond,
    'p50 ms': result.latencyMs.p50,
    'p99 ms': result.latencyMs.p99,
    'CPU µs/req': result.cpuMicrosecondsPerRequest ?? '',
    'non-2xx': result.non2xx,
  };
}
