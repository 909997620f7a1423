/**
 * Counts the Redis round trips a back-channel POST on replica A waits for before a stream on
 * replica B is told (`session_invalidated`), and before the POST answers (README "Performance",
 * propagation). Timing is used as a ruler, not measured: replica A talks to Redis through a proxy
 * that holds every reply for `delay` ms, so each round trip on A's path costs `delay` and the
 * counts are the times divided by it, whatever the machine's load (CPU is a few ms; `delay` ≫ it).
 * Replica B talks to Redis directly. Each token names a provider session (`sid`) and its user, as
 * Keycloak's do, and ends one seeded session whose stream is open on B.
 *
 *   npx tsx test/bench/roundTripsToEvent.ts [samples=5] [delay=100] [recheck=10000] [trace=1] [baseline=/path/to/other/checkout]
 *
 * `trace=1` prints every chunk A sends to Redis (`>`) and Redis answers (`<`), with the time in ms.
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
const delayMs = Number(options.delay ?? 100);
// The user re-check a token naming `sub` schedules (LOGOUT_RECHECK_DELAY_MS): kept off the counted path by default (see the README).
const recheckMs = Number(options.recheck ?? 10_000);
const trace = options.trace === '1';
const variants: Array<{ name: string; root: string | undefined }> = [{ name: 'this checkout', root: undefined }];
if (options.baseline) variants.push({ name: 'baseline', root: options.baseline });

const redisUrl = await redisUrlForTests();
const { hostname, port } = new URL(redisUrl);
const proxy = await delayingProxy(hostname, Number(port || 6379), delayMs);
const proxyUrl = `redis://127.0.0.1:${(proxy.address() as { port: number }).port}`;
const op = await startDevProvider({ clientBaseUrl: 'http://127.0.0.1:1' });
const database = await createPostgresDatabase();
const rows: Record<string, { toldRoundTrips: number; answeredRoundTrips: number; toldMs: number; answeredMs: number }> = {};
try {
  for (const variant of variants) rows[variant.name] = await measure(variant.root);
} finally {
  proxy.close();
  await op.close();
  await database.drop();
}
console.table(rows);
process.exit(0);

async function measure(root: string | undefined) {
  const prefix = `bench:${randomUUID().slice(0, 8)}:`;
  const env = { DATABASE_URL: database.url, OIDC_ISSUER: op.issuer, CLIENT_ID, CLIENT_SECRET, SESSION_SECRET: SECRET, REDIS_PREFIX: prefix, LIVENESS_INTERVAL_SECONDS: '0', LOGOUT_RECHECK_DELAY_MS: String(recheckMs) };
  const [a, b] = await Promise.all([
    startReplica({ ...env, REDIS_URL: proxyUrl, REDIS_COMMAND_TIMEOUT_MS: String(delayMs * 20) }, undefined, root),
    startReplica({ ...env, REDIS_URL: redisUrl }, undefined, root),
  ]);
  const streams: Array<ReturnType<typeof openRawStream>> = [];
  try {
    const sessions = await seedSessions({ redisUrl, prefix, issuer: op.issuer, secret: SECRET, count: samples + 1 });
    for (const session of sessions) streams.push(openRawStream(b.url, session.cookie));
    await Promise.all(streams.map((s) => s.connected));
    const told: number[] = [];
    const answered: number[] = [];
    // The first token warms A up (script loads, JIT); the rest are counted.
    for (let i = 0; i <= samples; i++) {
      const session = sessions[i]!;
      const token = await op.signLogoutToken({ sid: session.providerSid, sub: session.sub });
      const started = performance.now();
      const status = await postForm(`${a.url}/auth/backchannel-logout`, { logout_token: token });
      const answeredAt = performance.now();
      if (status !== 200) throw new Error(`logout POST answered ${status}`);
      const at = await streams[i]!.invalidated;
      if (i === 0) continue;
      told.push(at - started);
      answered.push(answeredAt - started);
    }
    const median = (list: number[]) => [...list].sort((x, y) => x - y)[Math.floor((list.length - 1) / 2)]!;
    return {
      toldRoundTrips: Math.round(median(told) / delayMs),
      answeredRoundTrips: Math.round(median(answered) / delayMs),
      toldMs: Math.round(median(told)),
      answeredMs: Math.round(median(answered)),
    };
  } finally {
    for (const stream of streams) stream.socket.destroy();
    await Promise.all([a.stop(), b.stop()]);
    const cleaner = new Redis(redisUrl);
    await cleaner.eval(`for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end`, 0, `${prefix}*`);
    cleaner.disconnect();
  }
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
