/**
 * Back-channel logout benchmark (README "Performance"). Loopback only, bounded in count and time.
 *
 *   npm run bench:backchannel -- [streams=1000,10000] [samples=200] [tokens=60000]
 *
 * Two replicas (separate processes of the built server) share one Redis. N sessions are seeded and
 * each holds an SSE stream on replica B. Then:
 *  - latency: a logout token for one session is POSTed to replica A; the clock stops when that
 *    session's stream on B receives `session_invalidated` (samples taken one after another);
 *  - throughput: wrk POSTs pre-signed logout tokens to replica A over 32 connections for 3 s (after
 *    3 s of warm-up), with replica A's CPU time per token, and the same load to a bare Node server as
 *    a baseline for this machine at this moment;
 *  - memory: replica B's RSS growth while the N streams open, divided by N.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevProvider } from '../../dev/oidcProvider.js';
import { CLIENT_ID, CLIENT_SECRET } from '../../dev/oidcProvider.js';
import { redisUrlForTests } from '../support/sharedRedis.js';
import { createPostgresDatabase } from '../support/postgresDatabase.js';
import { postForm } from './postForm.js';
import { percentile, startReplica, withBareServer } from './replicas.js';
import { postLinesScript, runWrk } from './wrk.js';
import { seedSessions } from './seedSessions.js';
import { openRawStream, type RawStream } from './sseSockets.js';

const SECRET = 'bench-session-secret-0123456789-abcdefghijklmnop';
const [streamsArg = '1000,10000', samplesArg = '200', tokensArg = '60000'] = process.argv.slice(2);
const streamCounts = streamsArg.split(',').map(Number);
const samples = Number(samplesArg);
const tokenCount = Number(tokensArg);

const redisUrl = await redisUrlForTests();
const op = await startDevProvider({ clientBaseUrl: 'http://127.0.0.1:1' });
const results: Record<string, unknown>[] = [];

for (const streamCount of streamCounts) {
  const prefix = `bench:${randomUUID().slice(0, 8)}:`;
  const database = await createPostgresDatabase();
  const env = { DATABASE_URL: database.url, OIDC_ISSUER: op.issuer, CLIENT_ID, CLIENT_SECRET, SESSION_SECRET: SECRET, REDIS_URL: redisUrl, REDIS_PREFIX: prefix, LIVENESS_INTERVAL_SECONDS: '0', RATE_LIMIT_PROVIDER_ADDRESSES: '127.0.0.1' };
  const [a, b] = await Promise.all([startReplica(env), startReplica(env)]);
  try {
    const sessions = await seedSessions({ redisUrl, prefix, issuer: op.issuer, secret: SECRET, count: streamCount });
    await b.collectGarbage();
    const rssBefore = b.rssKiB();
    const streams: RawStream[] = [];
    for (let i = 0; i < sessions.length; i += 200) {
      const batch = sessions.slice(i, i + 200).map((s) => openRawStream(b.url, s.cookie));
      await Promise.all(batch.map((s) => s.connected));
      streams.push(...batch);
    }
    await b.collectGarbage();
    const rssAfter = b.rssKiB();

    const latencies: number[] = [];
    for (let i = 0; i < Math.min(samples, sessions.length); i++) {
      const target = (i * 7919) % sessions.length;
      const session = sessions[target]!;
      const token = await op.signLogoutToken({ sid: session.providerSid, sub: session.sub });
      const started = performance.now();
      const status = await postForm(`${a.url}/auth/backchannel-logout`, { logout_token: token });
      if (status !== 200) throw new Error(`logout POST answered ${status}`);
      latencies.push((await streams[target]!.invalidated) - started);
    }
    latencies.sort((x, y) => x - y);

    // Throughput: wrk posts pre-signed tokens (each a new jti, naming users without sessions, so each
    // is fully verified, replay-checked and looked up) for `seconds`; the bare-server baseline runs
    // the same load shape against a do-nothing Node server right after.
    const tokens = await Promise.all(Array.from({ length: tokenCount }, (_, i) => op.signLogoutToken({ sub: `nobody-${i}` })));
    const tokenDir = await mkdtemp(join(tmpdir(), 'bench-tokens-'));
    const load = async (url: string, slice: string[]) => {
      const file = join(tokenDir, `${randomUUID()}.txt`);
      await writeFile(file, slice.join('\n'));
      return runWrk({ url, seconds: 3, connections: 32, script: postLinesScript('/auth/backchannel-logout', 'logout_token', file) });
    };
    // The first seconds run partly unoptimised code (JIT warm-up): spend them on the first half of the
    // tokens and measure with the second half.
    const half = Math.floor(tokens.length / 2);
    await load(a.url, tokens.slice(0, half));
    const cpuBefore = a.cpuMs();
    const throughput = await load(a.url, tokens.slice(half));
    const cpuPerToken = ((a.cpuMs() - cpuBefore) * 1000) / throughput.requests;
    const bare = await withBareServer((url) => load(url, tokens.slice(half)));

    const result = {
      streams: streamCount,
      latencyMs: { p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)), max: round(latencies.at(-1)!), samples: latencies.length },
      tokensPerSecond: throughput.requestsPerSecond,
      cpuMicrosecondsPerToken: Math.round(cpuPerToken),
      rejected: throughput.non2xx,
      bareServerRequestsPerSecond: bare.requestsPerSecond,
      ratioToBare: round(throughput.requestsPerSecond / bare.requestsPerSecond),
      rssPerStreamKiB: round((rssAfter - rssBefore) / streamCount),
      replicaBRssMiB: round(rssAfter / 1024),
    };
    results.push(result);
    console.log(JSON.stringify(result));
    for (const stream of streams) stream.socket.destroy();
  } finally {
    await Promise.all([a.stop(), b.stop()]);
    await database.drop();
  }
}

await op.close();
console.table(
  results.map((r) => ({
    streams: r.streams,
    'p50 ms': (r.latencyMs as { p50: number }).p50,
    'p99 ms': (r.latencyMs as { p99: number }).p99,
    'tokens/s (replica A)': r.tokensPerSecond,
    'CPU µs/token': r.cpuMicrosecondsPerToken,
    'bare server req/s': r.bareServerRequestsPerSecond,
    'KiB per stream': r.rssPerStreamKiB,
  })),
);
process.exit(0);

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
