/**
 * Where an open event stream's memory goes (README "Performance"): one process holds N streams, and
 * the growth per stream is split into what the process itself can tell apart, each read after a
 * full GC and `settle` seconds of quiet:
 *  - rss: the whole resident set (what bench:sse reports);
 *  - heapUsed / heapCommitted: V8's live objects, and the pages V8 holds for them (new space apart);
 *  - young: the young generation's committed pages (grown by a burst, given back some seconds later);
 *  - external: memory V8 is told about outside its heap (Buffers, ArrayBuffers);
 *  - mallocHeap: the growth of the `[heap]` mapping, glibc's main malloc arena (native objects:
 *    sockets, HTTP parsers, write requests; and free chunks it could not give back);
 *  - anonOther: the other anonymous mappings (V8's pages, other malloc arenas, large mallocs).
 * `trim=1` then calls glibc's malloc_trim(0) in the process (gdb) and reports the RSS it gave back:
 * free memory stranded inside the arena, i.e. fragmentation rather than live data.
 *
 *   npx tsx test/bench/sseMemory.ts [streams=5000] [batch=200] [headers=browser] [settle=5] [targets=app,bare,bare-taken] [root=/other/checkout]
 *                                   [flags='--node-flag …'] [trim=1] [env='NAME=value …']
 *
 * `app` is the built server (`npm run build`) of this checkout (or `root`) on Redis and PostgreSQL
 * with N seeded sessions; `bare` is sseBareServer.mjs, the floor: node:http holding the same responses;
 * `bare-taken` the same server taking each stream's connection from node:http as the app's hub does.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { CLIENT_ID, CLIENT_SECRET, startDevProvider } from '../../dev/oidcProvider.js';
import { redisUrlForTests } from '../support/sharedRedis.js';
import { createPostgresDatabase } from '../support/postgresDatabase.js';
import { startServerProcess } from '../support/serverProcess.js';
import { freePort } from '../support/ports.js';
import { startFlags } from '../../scripts/buildServer.js';
import { seedSessions } from './seedSessions.js';
import { openRawStream, type RawStream } from './sseSockets.js';

const SECRET = 'bench-session-secret-0123456789-abcdefghijklmnop';
const options = Object.fromEntries(process.argv.slice(2).map((arg) => [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]));
const streamCount = Number(options.streams ?? 5000);
const settleMs = Number(options.settle ?? 5) * 1000;
// `headers=browser`: each stream's request carries what a desktop browser's EventSource sends
// besides its cookie (~0.6 KB); by default only Host, Accept and Cookie.
const extraHeaders =
  options.headers === 'browser'
    ? [
        'Connection: keep-alive',
        'Cache-Control: no-cache',
        'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
        'Accept-Language: en-GB,en;q=0.9,de;q=0.8',
        'Accept-Encoding: gzip, deflate, br, zstd',
        'Referer: https://board.example.com/boards/42',
        'Origin: https://board.example.com',
        'Sec-Fetch-Site: same-origin',
        'Sec-Fetch-Mode: cors',
        'Sec-Fetch-Dest: empty',
        'sec-ch-ua: "Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"',
        'sec-ch-ua-mobile: ?0',
        'sec-ch-ua-platform: "Linux"',
      ].map((line) => `${line}\r\n`).join('')
    : '';
// Streams opened at once, as bench:sse does (200): how many opens are in flight together.
const batchSize = Number(options.batch ?? 200);
const targets = (options.targets ?? 'app,bare,bare-taken').split(',');
const root = options.root;
const flags = options.flags === undefined ? startFlags(root) : options.flags.split(' ').filter(Boolean);
const extraEnv = Object.fromEntries((options.env ?? '').split(' ').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
const preload = ['--expose-gc', '--import', new URL('./memOnSignal.mjs', import.meta.url).pathname];

interface Memory {
  rss: number;
  heapUsed: number;
  heapCommitted: number;
  young: number;
  external: number;
  arrayBuffers: number;
  mallocHeap: number;
  anonOther: number;
  spaces: Record<string, { committed: number; used: number }>;
}

const rows: Record<string, Record<string, number>> = {};
for (const target of targets) {
  const { pid, cookies, url, stop } = target === 'app' ? await startApp() : await startBare(target === 'bare-taken');
  try {
    const before = await memoryOf(pid);
    const streams: RawStream[] = [];
    for (let i = 0; i < streamCount; i += batchSize) {
      const batch = cookies.slice(i, i + batchSize).map((cookie) => openRawStream(url, cookie, extraHeaders));
      await Promise.all(batch.map((s) => s.connected));
      streams.push(...batch);
    }
    const after = await memoryOf(pid);
    const row: Record<string, number> = {};
    for (const key of Object.keys(after).filter((k) => k !== 'spaces') as Array<Exclude<keyof Memory, 'spaces'>>) row[`${key} KiB`] = round((after[key] - before[key]) / 1024 / streamCount);
    if (options.gdb) execFileSync('gdb', ['-p', String(pid), '-batch', '-ex', options.gdb], { stdio: 'ignore' });
    if (options.trim === '1') {
      const untrimmed = mappingsOf(pid).rss;
      execFileSync('gdb', ['-p', String(pid), '-batch', '-ex', 'call (int) malloc_trim(0)'], { stdio: 'ignore' });
      row['trimmed KiB'] = round((untrimmed - mappingsOf(pid).rss) / 1024 / streamCount);
    }
    if (options.spaces === '1') {
      for (const space of Object.keys(after.spaces)) {
        row[`${space} committed`] = round((after.spaces[space]!.committed - before.spaces[space]!.committed) / 1024 / streamCount);
        row[`${space} used`] = round((after.spaces[space]!.used - before.spaces[space]!.used) / 1024 / streamCount);
      }
    }
    rows[target] = row;
    console.log(JSON.stringify({ target, streams: streamCount, ...row }));
    for (const stream of streams) stream.socket.destroy();
  } finally {
    await stop();
  }
}
console.table(rows);
process.exit(0);

async function startApp() {
  const redisUrl = await redisUrlForTests();
  const op = await startDevProvider({ clientBaseUrl: 'http://127.0.0.1:1' });
  const database = await createPostgresDatabase();
  const prefix = `bench:${randomUUID().slice(0, 8)}:`;
  const port = await freePort();
  const server = await startServerProcess({
    entry: 'dist',
    url: `http://127.0.0.1:${port}`,
    env: { LOG_LEVEL: 'info', DATABASE_URL: database.url, OIDC_ISSUER: op.issuer, CLIENT_ID, CLIENT_SECRET, SESSION_SECRET: SECRET, REDIS_URL: redisUrl, REDIS_PREFIX: prefix, LIVENESS_INTERVAL_SECONDS: '0', ...extraEnv },
    logFile: join(tmpdir(), `board-bff-bench-${port}.log`),

    nodeArgs: [...preload, ...flags],
    readyTimeoutMs: 30_000,
    ...(root ? { root } : {}),
  });
  const sessions = await seedSessions({ redisUrl, prefix, issuer: op.issuer, secret: SECRET, count: streamCount });
  return {
    pid: server.child.pid!,
    url: server.url,
    cookies: sessions.map((s) => s.cookie),
    async stop() {
      await server.stop();
      const redis = new Redis(redisUrl);
      await redis.eval(`for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end`, 0, `${prefix}*`);
      redis.disconnect();
      await op.close();
      await database.drop();
    },
  };
}

async function startBare(taken: boolean) {
  // `bare-taken` imports the app's TypeScript module, so it runs under tsx (its loader's memory is
  // there before the streams open: not in the per-stream figures).
  const loader = taken ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...preload, ...loader, ...flags, new URL('./sseBareServer.mjs', import.meta.url).pathname], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...extraEnv, ...(taken ? { BENCH_SSE_TAKE: '1' } : {}) },
  });
  const port = await new Promise<string>((resolve) => child.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString().trim())));
  // A cookie the size of the app's, so both parse and keep the same request headers.
  const cookie = `bff.sid=${encodeURIComponent(`s:${'x'.repeat(24)}.${'y'.repeat(43)}`)}`;
  return {
    pid: child.pid!,
    url: `http://127.0.0.1:${port}`,
    cookies: Array.from({ length: streamCount }, () => cookie),
    async stop() {
      child.kill();
    },
  };
}

async function memoryOf(pid: number): Promise<Memory> {
  await sleep(settleMs);
  const file = join(tmpdir(), `bench-mem-${pid}.json`);
  rmSync(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  let stats: { heapUsed: number; external: number; arrayBuffers: number; spaces: Record<string, { committed: number; used: number }> } | undefined;
  while (!stats) {
    await sleep(100);
    try {
      stats = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      // not written yet
    }
  }
  await sleep(500);
  const young = stats.spaces.new_space!.committed;
  const committed = Object.values(stats.spaces).reduce((sum, s) => sum + s.committed, 0) - young;
  const { mallocHeap, anonOther, rss } = mappingsOf(pid);
  return { rss, heapUsed: stats.heapUsed, heapCommitted: committed, young, external: stats.external, arrayBuffers: stats.arrayBuffers, mallocHeap, anonOther, spaces: stats.spaces };
}

/** Resident bytes of the process's `[heap]` mapping and of its other anonymous mappings, from /proc/<pid>/smaps. */
function mappingsOf(pid: number): { mallocHeap: number; anonOther: number; rss: number } {
  let mallocHeap = 0;
  let anonOther = 0;
  let rss = 0;
  let name = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const mapping = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (mapping) {
      name = mapping[1]!;
      continue;
    }
    const resident = /^Rss:\s+(\d+) kB/.exec(line);
    if (!resident) continue;
    const bytes = Number(resident[1]) * 1024;
    rss += bytes;
    if (name === '[heap]') mallocHeap += bytes;
    else if (name === '') anonOther += bytes;
  }
  return { mallocHeap, anonOther, rss };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
