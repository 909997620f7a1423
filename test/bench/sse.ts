/**
 * Event-stream benchmark (README "Performance"): memory per open stream and back-channel → stream
 * propagation with many streams open. Loopback only, bounded in count and time.
 *
 *   npm run bench:sse -- [streams=5000] [samples=200] [rounds=1] [settle=5] [baseline=/path/to/other/checkout]
 *                        [flags='--node-flag …'] [baselineFlags='…'] [env=NAME=value,…] [baselineEnv=…]
 *
 * Two replicas (separate processes of the built server) share one Redis. N sessions are seeded and
 * each opens an SSE stream on replica B. Figures:
 *  - memory: replica B's RSS and V8 heap growth while the N streams open, divided by N, each read
 *    after a full GC (and `settle` seconds of quiet). Opening thousands of streams at once grows V8's
 *    young generation to its maximum (32 MiB, ~6 KiB per stream at 5,000), which V8 gives back only
 *    when its memory reducer runs, some seconds after the burst, or not at all on a busy machine: so
 *    RSS is also shown without the young generation's growth (`rssExYoungPerStreamKiB`), which is
 *    what an idle stream keeps. Also Redis's own `used_memory` growth (subscriptions) per stream;
 *  - propagation: `samples` logout tokens, one after another, each for a different session, POSTed
 *    to replica A; the clock stops when that session's stream on B receives `session_invalidated`.
 *    The POST's own answer time is reported beside it, to show which side the time is spent on; and
 *    `delivered`: `session_invalidated` published straight onto the bus (with the variant's own bus
 *    code) until the stream on B has it — replica B's part alone, with the N streams open.
 * With `baseline=` (a checkout with its own `npm run build` done, e.g. the previous commit) the same
 * figures are taken from it too, rounds alternating between the two, and the ratios printed.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { createLogger } from '../../src/logger.js';
import { CLIENT_ID, CLIENT_SECRET, startDevProvider } from '../../dev/oidcProvider.js';
import { redisUrlForTests } from '../support/sharedRedis.js';
import { createPostgresDatabase } from '../support/postgresDatabase.js';
import { postForm } from './postForm.js';
import { startFlags } from '../../scripts/buildServer.js';
import { percentile, startReplica, type Replica } from './replicas.js';
import { seedSessions } from './seedSessions.js';
import { openRawStream, type RawStream } from './sseSockets.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SECRET = 'bench-session-secret-0123456789-abcdefghijklmnop';
const options = Object.fromEntries(process.argv.slice(2).map((arg) => [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]));
const streamCount = Number(options.streams ?? 5000);
const samples = Number(options.samples ?? 200);
const rounds = Number(options.rounds ?? 1);
const settleMs = Number(options.settle ?? 5) * 1000;
// Node flags: each checkout's `npm start` flags unless `flags=` / `baselineFlags=` (space-separated) say otherwise.
const flagsOf = (given: string | undefined, root: string | undefined) => (given === undefined ? startFlags(root) : given.split(' ').filter(Boolean));
// Extra environment of the replicas: `env=NAME=value,NAME=value` (this checkout), `baselineEnv=…`.
const envOf = (given: string | undefined) => Object.fromEntries((given ?? '').split(',').filter(Boolean).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
const variants: Array<{ name: string; root: string | undefined; flags: string[]; env: Record<string, string> }> = [
  { name: 'this checkout', root: undefined, flags: flagsOf(options.flags, undefined), env: envOf(options.env) },
];
if (options.baseline) variants.push({ name: 'baseline', root: options.baseline, flags: flagsOf(options.baselineFlags, options.baseline), env: envOf(options.baselineEnv) });

interface Figures {
  rssPerStreamKiB: number;
  rssExYoungPerStreamKiB: number;
  heapPerStreamKiB: number;
  redisPerStreamBytes: number;
  toldP50Ms: number;
  toldP99Ms: number;
  answeredP50Ms: number;
  answeredP99Ms: number;
  deliveredP50Ms: number;
  deliveredP99Ms: number;
}

const redisUrl = await redisUrlForTests();
const redis = new Redis(redisUrl);
const op = await startDevProvider({ clientBaseUrl: 'http://127.0.0.1:1' });
const database = await createPostgresDatabase();
const figures = new Map<string, Figures[]>(variants.map((v) => [v.name, []]));

try {
  for (let round = 0; round < rounds; round++) {
    // Alternate which variant goes first, so neither always meets a warmer (or busier) machine.
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const variant of order) {
      const result = await measure(variant.root, variant.flags, variant.env);
      figures.get(variant.name)!.push(result);
      console.log(JSON.stringify({ variant: variant.name, round, streams: streamCount, samples, ...result }));
    }
  }
} finally {
  redis.disconnect();
  await op.close();
  await database.drop();
}

const rows = Object.fromEntries(variants.map((v) => [v.name, medianOf(figures.get(v.name)!)]));
if (options.baseline) rows['ratio (this / baseline)'] = ratio(rows['this checkout']!, rows.baseline!);
console.table(rows);
process.exit(0);

async function measure(root: string | undefined, flags: string[], extraEnv: Record<string, string>): Promise<Figures> {
  const prefix = `bench:${randomUUID().slice(0, 8)}:`;
  const env = { DATABASE_URL: database.url, OIDC_ISSUER: op.issuer, CLIENT_ID, CLIENT_SECRET, SESSION_SECRET: SECRET, REDIS_URL: redisUrl, REDIS_PREFIX: prefix, LIVENESS_INTERVAL_SECONDS: '0', ...extraEnv };
  const [a, b] = await Promise.all([startReplica(env, flags, root), startReplica(env, flags, root)]);
  const streams: RawStream[] = [];
  try {
    const sessions = await seedSessions({ redisUrl, prefix, issuer: op.issuer, secret: SECRET, count: streamCount });
    const before = await memoryOf(b);
    for (let i = 0; i < sessions.length; i += 200) {
      const batch = sessions.slice(i, i + 200).map((s) => openRawStream(b.url, s.cookie));
      await Promise.all(batch.map((s) => s.connected));
      streams.push(...batch);
    }
    const after = await memoryOf(b);

    const used = new Set<number>();
    const told: number[] = [];
    const answered: number[] = [];
    for (let i = 0; i < Math.min(samples, sessions.length); i++) {
      const target = (i * 7919) % sessions.length;
      used.add(target);
      const session = sessions[target]!;
      const token = await op.signLogoutToken({ sid: session.providerSid, sub: session.sub });
      const started = performance.now();
      const status = await postForm(`${a.url}/auth/backchannel-logout`, { logout_token: token });
      answered.push(performance.now() - started);
      if (status !== 200) throw new Error(`logout POST answered ${status}`);
      const at = await Promise.race([streams[target]!.invalidated, sleep(5000).then(() => NaN)]);
      if (Number.isNaN(at)) throw new Error('a stream was not told of its revocation within 5 s');
      told.push(at - started);
    }
    told.sort((x, y) => x - y);
    answered.sort((x, y) => x - y);

    // Replica B's part alone: the event published by the variant's own bus code, no POST, no revocation.
    // From the variant's src/ (this script runs under tsx): dist/ holds one bundle, not these modules.
    const src = (file: string) => pathToFileURL(join(root ?? ROOT, 'src', file)).href;
    const { createRedisBus } = (await import(src('events/redisBus.ts'))) as typeof import('../../src/events/redisBus.js');
    const { createEvent, topics } = (await import(src('events/eventBus.ts'))) as typeof import('../../src/events/eventBus.js');
    // A baseline build from before the handle lost its key (SESSION_SECRET rotation) exports a factory.
    const handles = (await import(src('sessions/sessionHandle.ts'))) as {
      sessionHandleOf?: (sessionId: string) => string;
      createSessionHandle?: (secret: string) => (sessionId: string) => string;
    };
    const handleOf = handles.sessionHandleOf ?? handles.createSessionHandle!(SECRET);
    const busClients = [new Redis(redisUrl), new Redis(redisUrl)] as const;
    const bus = createRedisBus(busClients[0], busClients[1], prefix, createLogger({ level: 'silent' }));
    const delivered: number[] = [];
    try {
      for (let i = 0; i < Math.min(samples, sessions.length - told.length); i++) {
        let target = (i * 7919 + 1) % sessions.length;
        while (used.has(target)) target = (target + 1) % sessions.length;
        used.add(target);
        const started = performance.now();
        await bus.publish(topics.session(handleOf(sessions[target]!.sid)), createEvent('session_invalidated', { reason: 'revoked' }));
        const at = await Promise.race([streams[target]!.invalidated, sleep(5000).then(() => NaN)]);
        if (Number.isNaN(at)) throw new Error('a stream did not receive its event within 5 s');
        delivered.push(at - started);
      }
    } finally {
      busClients.forEach((client) => client.disconnect());
    }
    delivered.sort((x, y) => x - y);
    return {
      rssPerStreamKiB: round((after.rssKiB - before.rssKiB) / streamCount),
      rssExYoungPerStreamKiB: round((after.rssKiB - before.rssKiB - (after.youngBytes - before.youngBytes) / 1024) / streamCount),
      heapPerStreamKiB: round((after.heapBytes - before.heapBytes) / 1024 / streamCount),
      redisPerStreamBytes: Math.round((after.redisBytes - before.redisBytes) / streamCount),
      toldP50Ms: round(percentile(told, 50)),
      toldP99Ms: round(percentile(told, 99)),
      answeredP50Ms: round(percentile(answered, 50)),
      answeredP99Ms: round(percentile(answered, 99)),
      deliveredP50Ms: round(percentile(delivered, 50)),
      deliveredP99Ms: round(percentile(delivered, 99)),
    };
  } finally {
    for (const stream of streams) stream.socket.destroy();
    await Promise.all([a.stop(), b.stop()]);
    await redis.eval(`for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end`, 0, `${prefix}*`);
  }
}

async function memoryOf(replica: Replica): Promise<{ rssKiB: number; heapBytes: number; youngBytes: number; redisBytes: number }> {
  await sleep(settleMs);
  await replica.collectGarbage();
  const metrics = await (await fetch(`${replica.url}/metrics`)).text();
  const heapBytes = Number(/^nodejs_heap_size_used_bytes (\d+)/m.exec(metrics)?.[1] ?? NaN);
  const youngBytes = Number(/^nodejs_heap_space_size_total_bytes\{space="new"\} (\d+)/m.exec(metrics)?.[1] ?? NaN);
  const redisBytes = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? NaN);
  return { rssKiB: replica.rssKiB(), heapBytes, youngBytes, redisBytes };
}

function medianOf(list: Figures[]): Figures {
  const keys = Object.keys(list[0]!) as Array<keyof Figures>;
  return Object.fromEntries(keys.map((k) => [k, list.map((f) => f[k]).sort((x, y) => x - y)[Math.floor((list.length - 1) / 2)]!])) as unknown as Figures;
}

function ratio(x: Figures, y: Figures): Figures {
  return Object.fromEntries(Object.keys(x).map((k) => [k, round(x[k as keyof Figures] / y[k as keyof Figures])])) as unknown as Figures;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
