/**
 * A/B of two builds of the server on the hot paths (a regression hunt between branches): each build
 * (a directory holding dist/ and node_modules/) runs as its own process on one Redis and database;
 * wrk drives each in turn (rounds alternate the order): authenticated GET /api/user (50 connections)
 * and valid logout tokens (32 connections). Prints CPU µs per request (for tokens also the main
 * thread's alone: the event loop bounds the rate while another core is free) and req/s, medians, and the
 * median of the per-round ratios B / A (each round measures both builds back to back, so a ratio
 * compares them under the same load of a shared machine).
 *
 *   [BENCH_PAIRED=1] [BENCH_TOKENS=keycloak] npx tsx test/bench/abBuilds.ts <dirA> <dirB> [rounds=3] [seconds=3]
 *
 * BENCH_PAIRED=1 loads both builds at the same time instead of one after the other (on a machine
 * whose load swings within seconds, the ratio of a paired round is steadier).
 * BENCH_TOKENS=keycloak gives the signed-in session tokens of Keycloak's sizes (default: tiny
 * placeholders), each build in its own layout (tokens in the record before `dist/sessions/sessionTokens.js`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLIENT_ID, CLIENT_SECRET, startDevProvider } from '../../dev/oidcProvider.js';
import { redisUrlForTests } from '../support/sharedRedis.js';
import { freePort } from '../support/ports.js';
import { createPostgresDatabase } from '../support/postgresDatabase.js';
import { cpuMsOf, mainThreadCpuMsOf } from './replicas.js';
import { seedSessions } from './seedSessions.js';
import { postLinesScript, runWrk } from './wrk.js';
import { median } from './stats.js';

const [dirA, dirB, roundsArg = '3', secondsArg = '3'] = process.argv.slice(2);
if (!dirA || !dirB) throw new Error('usage: abBuilds.ts <dirA> <dirB> [rounds] [seconds]');
const rounds = Number(roundsArg);
const seconds = Number(secondsArg);
const paired = process.env.BENCH_PAIRED === '1';
const SECRET = 'bench-session-secret-0123456789-abcdefghijklmnop';
const redisUrl = await redisUrlForTests();
const database = await createPostgresDatabase();
const op = await startDevProvider({ clientBaseUrl: 'http://127.0.0.1:1' });
const children: ChildProcess[] = [];
try {
  const start = async (dir: string) => {
    const port = await freePort();
    const prefix = `bench:${randomUUID().slice(0, 8)}:`;
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, ['dist/server.js'], {
      cwd: dir,
      stdio: 'ignore',
      env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', BASE_URL: url, OIDC_ISSUER: op.issuer, CLIENT_ID, CLIENT_SECRET, SESSION_SECRET: SECRET, REDIS_URL: redisUrl, REDIS_PREFIX: prefix, DATABASE_URL: database.url, LIVENESS_INTERVAL_SECONDS: '0', LOG_LEVEL: 'info' },
    });
    children.push(child);
    for (let i = 0; ; i++) {
      if (i > 600) throw new Error(`${dir} did not become ready`);
      if (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const layout = existsSync(join(dir, 'dist/sessions/sessionTokens.js')) ? 'split' : 'inline';
    const tokens = process.env.BENCH_TOKENS === 'keycloak' ? 'keycloak' : 'tiny';
    const [session] = await seedSessions({ redisUrl, prefix, issuer: op.issuer, secret: SECRET, count: 1, tokens, layout });
    return { dir, url, pid: child.pid!, cookie: session!.cookie, user: [] as number[][], backchannel: [] as number[][] };
  };
  const builds = [await start(dirA), await start(dirB)];
  const tokenDir = await mkdtemp(join(tmpdir(), 'bench-ab-'));
  // Enough for a quiet machine's rate (~5,000 tokens/s after the fifth pass): a file that runs out
  // replays its jti, which is refused (400) and fails the run.
  const tokensPerFile = Math.max(12_000, seconds * 7_000);
  const tokenFile = async () => {
    const file = join(tokenDir, `${randomUUID()}.txt`);
    const tokens = await Promise.all(Array.from({ length: tokensPerFile }, (_, i) => op.signLogoutToken({ sub: `nobody-${i}-${randomUUID()}` })));
    await writeFile(file, tokens.join('\n'));
    return file;
  };
  const measure = async (pid: number, run: () => ReturnType<typeof runWrk>) => {
    const before = cpuMsOf(pid);
    const mainBefore = mainThreadCpuMsOf(pid);
    const result = await run();
    if (result.non2xx > 0) throw new Error(`${result.non2xx} non-2xx answers`);
    return [((cpuMsOf(pid) - before) * 1000) / result.requests, result.requestsPerSecond, ((mainThreadCpuMsOf(pid) - mainBefore) * 1000) / result.requests];
  };
  for (const b of builds) {
    await measure(b.pid, () => runWrk({ url: `${b.url}/api/user`, seconds: 2, connections: 50, headers: { cookie: b.cookie } }));
    const file = await tokenFile();
    await measure(b.pid, () => runWrk({ url: b.url, seconds: 2, connections: 32, script: postLinesScript('/auth/backchannel-logout', 'logout_token', file) }));
  }
  const user = (b: (typeof builds)[number]) => measure(b.pid, () => runWrk({ url: `${b.url}/api/user`, seconds, connections: 50, headers: { cookie: b.cookie } }));
  const backchannel = (b: (typeof builds)[number], file: string) =>
    measure(b.pid, () => runWrk({ url: b.url, seconds, connections: 32, script: postLinesScript('/auth/backchannel-logout', 'logout_token', file) }));
  for (let r = 0; r < rounds; r++) {
    if (paired) {
      // Both builds under load at the same moment: a shared machine's swings hit both alike.
      const results = await Promise.all(builds.map(user));
      builds.forEach((b, i) => b.user.push(results[i]!));
      const files = await Promise.all(builds.map(() => tokenFile()));
      const tokens = await Promise.all(builds.map((b, i) => backchannel(b, files[i]!)));
      builds.forEach((b, i) => b.backchannel.push(tokens[i]!));
      continue;
    }
    for (const b of r % 2 ? [...builds].reverse() : builds) {
      b.user.push(await user(b));
      b.backchannel.push(await backchannel(b, await tokenFile()));
    }
  }
  console.table(builds.map((b) => ({
    build: b.dir,
    'GET /api/user CPU µs': Math.round(median(b.user.map((x) => x[0]!))),
    'GET /api/user req/s': median(b.user.map((x) => x[1]!)),
    'logout token CPU µs': Math.round(median(b.backchannel.map((x) => x[0]!))),
    '… main thread': Math.round(median(b.backchannel.map((x) => x[2]!))),
    'tokens/s': median(b.backchannel.map((x) => x[1]!)),
  })));
  const ratio = (pick: (b: (typeof builds)[number]) => number[][], field: number) => {
    const perRound = pick(builds[1]!).map((x, r) => x[field]! / pick(builds[0]!)[r]![field]!);
    return `${median(perRound).toFixed(2)} (${perRound.map((x) => x.toFixed(2)).join(' ')})`;
  };
  console.log(`per-round ratio B / A: GET /api/user CPU ${ratio((b) => b.user, 0)}, req/s ${ratio((b) => b.user, 1)}; logout token CPU ${ratio((b) => b.backchannel, 0)} (main thread ${ratio((b) => b.backchannel, 2)}), tokens/s ${ratio((b) => b.backchannel, 1)}`);
} finally {
  for (const child of children) child.kill('SIGTERM');
  await op.close();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await database.drop().catch(() => undefined);
}
process.exit(0);
