/**
 * Back-channel POST on replica A → `session_invalidated` on a stream held by replica B (README
 * "Performance", propagation), for this checkout and a baseline at once: both pairs of replicas
 * run side by side and the samples alternate between them, so both meet the same moments of a
 * busy machine. Each token names a provider session (`sid`) and its user, as Keycloak's do, and
 * ends one seeded session whose stream is open on B.
 *
 * - `delay=100` (the default) counts round trips: A talks to Redis through a proxy that holds every
 *   reply for `delay` ms, so each round trip A waits for costs `delay`, and the counts (median time
 *   divided by it) do not depend on the machine's load. "told": round trips A waits for before the
 *   PUBLISH leaves; "answered": before the POST answers.
 * - `delay=0`: no proxy; times, p50 / p90 / p99 over `samples`, with `streams` open on each B.
 * Both modes print replica A's CPU time per POST (from /proc; it includes A's idle timers).
 *
 *   npx tsx test/bench/roundTripsToEvent.ts [samples=5] [delay=100] [streams=0] [recheck=10000] [trace=1] [baseline=/path/to/other/checkout]
 *
 * `recheck`: LOGOUT_RECHECK_DELAY_MS of the replicas (a token naming `sub` has the user re-checked
 * that much later; far off by default, so that no re-check shares a counted round trip). `trace=1`
 * prints every chunk A sends to Redis (`>`) and Redis answers (`<`), with the time in ms.
 */
import { randomUUID } from 'node:crypto';
import { createServer, connect, type Server } from 'node:net';
import { Redis } from 'ioredis';
import { CLIENT_ID, CLIENT_SECRET, startDevProvider } from '../../dev/oidcProvider.js';
import { redisUrlForTests } from '../support/sharedRedis.js';
import { createPostgresDatabase } from '../support/postgresDatabase.js';
import { postForm } from './postForm.js';
import { startReplica } from './replicas.js';
import { seedSessions } from './seedSessions.js';
import { openRawStream } from './sseSockets.js';

const SECRET = 'bench-session-secret-0123456789-abcdefghijklmnop';
const options = Object.fromEntries(process.argv.slice(2).map((arg) => [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]));
const samples = Number(options.samples ?? 5);
const streamCount = Number(options.streams ?? 0);
const delayMs = Number(options.delay ?? 100);
// The user re-check a token naming `sub` schedules (LOGOUT_RECHECK_DELAY_MS): kept off the counted path by default (see the README).
const recheckMs = Number(options.recheck ?? 10_000);
const trace = options.trace === '1';
const variants: Array<{ name: string; root: string | undefined }> = [{ name: 'this checkout', root: undefined }];
if (options.baseline) variants.push({ name: 'baseline', root: options.baseline });

const redisUrl = await redisUrlForTests();
const { hostname, port } = new URL(redisUrl);
const proxy = delayMs > 0 ? await delayingProxy(hostname, Number(port || 6379), delayMs) : undefined;
const proxyUrl = proxy && `redis://127.0.0.1:${(proxy.address() as { port: number }).port}`;
const op = await startDevProvider({ clientBaseUrl: 'http://127.0.0.1:1' });
const database = await createPostgresDatabase();
const pairs: Pair[] = [];
try {
  for (const variant of variants) pairs.push(await startPair(variant.name, variant.root));
  // Samples interleaved, the order turned every time: both builds meet the same moments of the machine.
  for (let i = 0; i <= samples; i++) {
    for (const pair of i % 2 === 0 ? pairs : [...pairs].reverse()) {
      const sample = await pair.sample(i);
      // The first token warms each replica up (script loads, JIT); the rest are counted.
      if (i > 0) pair.results.push(sample);
      else pair.cpuAtStart = pair.cpuMs();
    }
  }
  for (const pair of pairs) pair.cpuAtEnd = pair.cpuMs();
} finally {
  await Promise.all(pairs.map((pair) => pair.stop()));
  proxy?.close();
  await op.close();
  await database.drop();
}
const rows: Record<string, Record<string, number>> = Object.fromEntries(pairs.map((pair) => [pair.name, { ...figures(pair.results), cpuPerPostOnAMs: Math.round(((pair.cpuAtEnd - pair.cpuAtStart) / samples) * 100) / 100 }]));
if (pairs.length === 2) {
  const [x, y] = [rows[pairs[0]!.name]!, rows[pairs[1]!.name]!];
  rows['ratio (this / baseline)'] = Object.fromEntries(Object.keys(x).map((k) => [k, Math.round((x[k]! / y[k]!) * 100) / 100]));
}
console.table(rows);
process.exit(0);

interface Pair {
  name: string;
  results: Array<{ told: number; answered: number }>;
  /** Replica A's CPU time so far (ms), and as read after the warm-up sample and after the last. */
  cpuMs(): number;
  cpuAtStart: number;
  cpuAtEnd: number;
  sample(i: number): Promise<{ told: number; answered: number }>;
  stop(): Promise<void>;
}

function figures(results: Array<{ told: number; answered: number }>): Record<string, number> {
  const at = (list: number[], p: number) => [...list].sort((x, y) => x - y)[Math.min(list.length - 1, Math.ceil((p / 100) * list.length) - 1)]!;
  const told = results.map((r) => r.told);
  const answered = results.map((r) => r.answered);
  const round = (ms: number) => Math.round(ms * 100) / 100;
  return delayMs > 0
    ? { toldRoundTrips: Math.round(at(told, 50) / delayMs), answeredRoundTrips: Math.round(at(answered, 50) / delayMs), toldP50Ms: round(at(told, 50)), answeredP50Ms: round(at(answered, 50)) }
    : { toldP50Ms: round(at(told, 50)), toldP90Ms: round(at(told, 90)), toldP99Ms: round(at(told, 99)), answeredP50Ms: round(at(answered, 50)), answeredP99Ms: round(at(answered, 99)) };
}

/** Replicas A and B of one build on their own prefix, B holding a stream per seeded session (and `streams` in all). */
async function startPair(name: string, root: string | undefined): Promise<Pair> {
  const prefix = `bench:${randomUUID().slice(0, 8)}:`;
  const env = { DATABASE_URL: database.url, OIDC_ISSUER: op.issuer, CLIENT_ID, CLIENT_SECRET, SESSION_SECRET: SECRET, REDIS_PREFIX: prefix, LIVENESS_INTERVAL_SECONDS: '0', LOGOUT_RECHECK_DELAY_MS: String(recheckMs) };
  const [a, b] = await Promise.all([
    startReplica({ ...env, REDIS_URL: proxyUrl ?? redisUrl, REDIS_COMMAND_TIMEOUT_MS: String(Math.max(2000, delayMs * 20)) }, undefined, root),
    startReplica({ ...env, REDIS_URL: redisUrl }, undefined, root),
  ]);
  const sessions = await seedSessions({ redisUrl, prefix, issuer: op.issuer, secret: SECRET, count: Math.max(streamCount, samples + 1) });
  const streams: Array<ReturnType<typeof openRawStream>> = [];
  for (let i = 0; i < sessions.length; i += 200) {
    const batch = sessions.slice(i, i + 200).map((session) => openRawStream(b.url, session.cookie));
    await Promise.all(batch.map((s) => s.connected));
    streams.push(...batch);
  }
  return {
    name,
    results: [],
    cpuMs: () => a.cpuMs(),
    cpuAtStart: NaN,
    cpuAtEnd: NaN,
    async sample(i) {
      const target = (i * 7919) % sessions.length;
      const session = sessions[target]!;
      const token = await op.signLogoutToken({ sid: session.providerSid, sub: session.sub });
      const started = performance.now();
      const status = await postForm(`${a.url}/auth/backchannel-logout`, { logout_token: token });
      const answered = performance.now() - started;
      if (status !== 200) throw new Error(`logout POST answered ${status}`);
      const at = await Promise.race([streams[target]!.invalidated, new Promise<number>((resolve) => setTimeout(() => resolve(NaN), 5000).unref())]);
      if (Number.isNaN(at)) throw new Error('a stream was not told of its revocation within 5 s');
      return { told: at - started, answered };
    },
    async stop() {
      for (const stream of streams) stream.socket.destroy();
      await Promise.all([a.stop(), b.stop()]);
      const cleaner = new Redis(redisUrl);
      await cleaner.eval(`for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end`, 0, `${prefix}*`);
      cleaner.disconnect();
    },
  };
}

/** A TCP proxy to Redis that forwards requests at once and each chunk of replies `delay` ms late, in order. */
function delayingProxy(host: string, port: number, delay: number): Promise<Server> {
  const server = createServer((client) => {
    const upstream = connect(port, host);
    client.pipe(upstream);
    if (trace) client.on('data', (chunk) => console.log(Math.round(performance.now()), '>', JSON.stringify(chunk.toString().replace(/\r\n\$\d+\r\n/g, ' ').slice(0, 160))));
    upstream.on('data', (chunk) => {
      if (trace) console.log(Math.round(performance.now()), '<', JSON.stringify(chunk.toString().slice(0, 60)));
      setTimeout(() => client.writable && client.write(chunk), delay);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
