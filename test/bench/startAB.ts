/**
 * A/B of `npm start` (README "Performance", start-up): spawns `node [flags] <entry>` with Redis +
 * PostgreSQL, polls `/readyz` every 5 ms from the spawn until it answers 200, then lets the process
 * go idle, runs a full GC (SIGUSR2, gcOnSignal.mjs) and reads its RSS. Variants alternate, round by
 * round (ABAB…), and the table gives medians and the median of the per-round ratios to the first.
 * A variant is `label=entry` or `label=entry|node flags` (space-separated flags), entry relative to
 * this checkout. A bare `node -e` HTTP server answering 200 on its first request is the yardstick.
 * With BENCH_CALLGRIND=1 each start runs under `valgrind --tool=callgrind` and the table gives the
 * instructions it executed from spawn to /readyz 200 (polled every 2 s, then SIGTERM): repeatable
 * on a loaded machine, where CPU time and wall time are not (README "Performance", start-up).
 * With BENCH_TRAFFIC=1 each server is then also used, and its RSS read after GC again: once alice has
 * signed in (the code flow through the in-process provider: sign-in loads what idle does not), and
 * after 400 `GET /api/user` and 100 `GET /api/posts` of hers, 10 at a time — so a saving at idle is
 * not merely moved to the first user.
 *
 *   npm run build && npx tsx test/bench/startAB.ts [rounds=7] [label=entry[|flags]] ...
 *   e.g. npx tsx test/bench/startAB.ts 9 'base=../main/dist/server.js' 'now=dist/server.js'
 *        BENCH_CALLGRIND=1 npx tsx test/bench/startAB.ts 2 'base=../main/dist/server.js' 'now=dist/server.js'
 *        BENCH_TRAFFIC=1 npx tsx test/bench/startAB.ts 5 'base=../main/dist/server.js' 'now=dist/server.js'
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { CLIENT_ID, CLIENT_SECRET, startDevProvider } from '../../dev/oidcProvider.js';
import { freePort } from '../support/ports.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn } from '../support/world.js';
import { redisUrlForTests } from '../support/sharedRedis.js';
import { createPostgresDatabase } from '../support/postgresDatabase.js';
import { median } from './stats.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const GC_HOOK = fileURLToPath(new URL('./gcOnSignal.mjs', import.meta.url));
const BARE = `require('node:http').createServer((q,s)=>s.end('ok')).listen(process.env.PORT,'127.0.0.1')`;

const rounds = Number(process.argv[2] ?? 7);
const callgrind = process.env.BENCH_CALLGRIND === '1';
const traffic = process.env.BENCH_TRAFFIC === '1';
const variants = (process.argv.length > 3 ? process.argv.slice(3) : ['tsc=dist/server.js']).map((spec) => {
  const [label, rest] = [spec.slice(0, spec.indexOf('=')), spec.slice(spec.indexOf('=') + 1)];
  const [entry, flags = ''] = rest.split('|');
  return { label, args: [...flags.split(' ').filter(Boolean), entry!] };
});
variants.push({ label: 'bare node -e (yardstick)', args: ['-e', BARE] });

// Every start listens on this one port: the provider knows one redirect URI (starts follow one another).
const serverPort = await freePort();
const op = await startDevProvider({ clientBaseUrl: `http://127.0.0.1:${serverPort}` });
const database = await createPostgresDatabase();
const env = {
  PATH: process.env.PATH ?? '',
  OIDC_ISSUER: op.issuer,
  CLIENT_ID,
  CLIENT_SECRET,
  SESSION_SECRET: 'bench-startup-secret-0123456789-abcdef',
  REDIS_URL: await redisUrlForTests(),
  REDIS_PREFIX: `bench:${randomUUID().slice(0, 8)}:`,
  DATABASE_URL: database.url,
  LOG_LEVEL: 'warn',
  HOST: '127.0.0.1',
};

interface Sample {
  readyMs: number;
  cpuMs: number;
  rssMiB: number;
  /** Under BENCH_CALLGRIND only. */
  instructions?: number;
  /** Under BENCH_TRAFFIC only (not for the bare server): RSS after GC once alice signed in, and after her requests. */
  signedInRssMiB?: number;
  trafficRssMiB?: number;
}
const results = new Map<string, Sample[]>(variants.map((v) => [v.label, []]));
// One start not counted: the page cache and the database catalogue warm up (instructions do not care).
if (!callgrind) await startOnce(variants[0]!.args);
for (let round = 0; round < rounds; round++) {
  const order = round % 2 ? [...variants].reverse() : variants;
  for (const variant of order) results.get(variant.label)!.push(await startOnce(variant.args));
}

const first = results.get(variants[0]!.label)!;
console.table(
  [...results].map(([label, samples]) =>
    callgrind
      ? {
          variant: label,
          'instructions, G': samples.map((s) => (s.instructions! / 1e9).toFixed(2)).join(' '),
          'instructions ratio to first': Number(median(samples.map((s, i) => s.instructions! / first[i]!.instructions!)).toFixed(2)),
        }
      : {
          variant: label,
          'spawn → /readyz 200, ms': Math.round(median(samples.map((s) => s.readyMs))),
          'CPU until ready, ms': Math.round(median(samples.map((s) => s.cpuMs))),
          'idle RSS after GC, MiB': Number(median(samples.map((s) => s.rssMiB)).toFixed(1)),
          'ready ratio to first': Number(median(samples.map((s, i) => s.readyMs / first[i]!.readyMs)).toFixed(2)),
          'RSS ratio to first': Number(median(samples.map((s, i) => s.rssMiB / first[i]!.rssMiB)).toFixed(2)),
          ...(traffic && samples[0]!.signedInRssMiB !== undefined
            ? {
                'RSS after sign-in, MiB': Number(median(samples.map((s) => s.signedInRssMiB!)).toFixed(1)),
                'RSS after 500 requests, MiB': Number(median(samples.map((s) => s.trafficRssMiB!)).toFixed(1)),
              }
            : {}),
        },
  ),
);
await op.close();
await database.drop();
process.exit(0);

async function startOnce(args: string[]): Promise<Sample> {
  const port = serverPort;
  const bare = args[0] === '-e';
  const started = performance.now();
  const node = [process.execPath, '--import', GC_HOOK, ...args];
  const child = callgrind
    ? spawn('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', '--smc-check=all-non-file', ...node], {
        cwd: ROOT,
        env: { ...env, PORT: String(port), BASE_URL: `http://127.0.0.1:${port}` },
        stdio: ['ignore', 'ignore', 'pipe'],
      })
    : spawn(node[0]!, node.slice(1), {
        cwd: ROOT,
        env: { ...env, PORT: String(port), BASE_URL: `http://127.0.0.1:${port}` },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
  let report = '';
  child.stderr?.on('data', (chunk: Buffer) => (report += chunk.toString()));
  const url = `http://127.0.0.1:${port}${bare ? '/' : '/readyz'}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
    const ok = await answers200(url);
    if (ok) break;
    // Under valgrind every poll the server answers adds instructions: a few, far apart.
    await new Promise((resolve) => setTimeout(resolve, callgrind ? 2000 : 5));
  }
  const readyMs = performance.now() - started;
  if (callgrind) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    const instructions = Number(/Collected : (\d+)/.exec(report)?.[1]);
    if (!instructions) throw new Error(`no instruction count from valgrind:\n${report.slice(-2000)}`);
    return { readyMs, cpuMs: 0, rssMiB: 0, instructions };
  }
  const cpuMs = cpuMsOf(child.pid!);
  const rssMiB = await rssAfterGc(child.pid!, 1500);
  let used: Pick<Sample, 'signedInRssMiB' | 'trafficRssMiB'> = {};
  if (traffic && !bare) {
    const base = `http://127.0.0.1:${port}`;
    const alice = new UserAgent();
    await signIn(alice, { op, baseUrl: base }, 'alice');
    const signedInRssMiB = await rssAfterGc(child.pid!, 500);
    for (let i = 0; i < 50; i++) {
      const paths = i % 5 === 4 ? Array(10).fill('/api/posts') : Array(10).fill('/api/user');
      await Promise.all(
        paths.map(async (path: string) => {
          const response = await alice.fetch(`${base}${path}`);
          if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
          await response.arrayBuffer();
        }),
      );
    }
    used = { signedInRssMiB, trafficRssMiB: await rssAfterGc(child.pid!, 500) };
  }
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  return { readyMs, cpuMs, rssMiB, ...used };
}

/** RSS after `waitMs` and a full GC (SIGUSR2, gcOnSignal.mjs). */
async function rssAfterGc(pid: number, waitMs: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, waitMs));
  process.kill(pid, 'SIGUSR2');
  await new Promise((resolve) => setTimeout(resolve, 500));
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

/** One GET on a fresh connection (node:http: undici's fetch adds milliseconds per refused attempt). */
function answers200(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get(url, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('error', () => resolve(false));
  });
}

function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}
