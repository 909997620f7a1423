/**
 * Peer benchmark (README "Performance"): board-bff against express-openid-connect 3 + connect-redis 7
 * (peerServer.mjs), side by side. Loopback only, bounded in count and time.
 *
 *   npm run bench:peer -- [rounds=3] [seconds=5] [tokensPerRound=40000]
 *
 * One in-process OpenID Provider (each RP is a client of its own there), one redis-server of the
 * benchmark's own (so INFO commandstats counts only these two), both RPs as separate processes.
 * Each RP signs alice in through the real code flow. Then, per round, both in turn (the order
 * alternates between rounds), with wrk:
 *  - authenticated `GET /api/user`, 50 connections: req/s, CPU per request, Redis commands and
 *    read events per request (INFO commandstats / total_reads_processed deltas over the run);
 *  - back-channel logout endpoint, valid logout tokens (fresh `jti`, naming users without sessions)
 *    at 32 connections: tokens/s, CPU per token.
 * Reports each RP's median and the median of the per-round ratios board-bff / peer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLIENT_SECRET, LOGIN_AS_COOKIE, startDevProvider, type TestProvider } from '../../dev/oidcProvider.js';
import { startOwnRedis } from '../support/ownRedis.js';
import { callsBetween, redisCounters } from '../support/redisCounters.js';
import { createPostgresDatabase } from '../support/postgresDatabase.js';
import { UserAgent } from '../support/userAgent.js';
import { cpuMsOf, startReplica } from './replicas.js';
import { postLinesScript, runWrk, type WrkResult } from './wrk.js';
import { median } from './stats.js';

// Each round posts for 3 s and the warm-up for 2 s from a file of tokensPerRound (half for the warm-up):
// a file that runs out is read again from its start, so board-bff refuses the replayed jti (400)
// and, after RATE_LIMIT_BACKCHANNEL refusals, limits the address (429) for the rest of the window.
// 40,000 tokens last at up to ~13,000 tokens/s; a quiet 2-core machine reaches ~6,500.
const [roundsArg = '3', secondsArg = '5', tokensArg = '40000'] = process.argv.slice(2);
const rounds = Number(roundsArg);
const seconds = Number(secondsArg);
const tokensPerRound = Number(tokensArg);
// BENCH_PATHS=user (or backchannel) measures only that path (e.g. with BENCH_PROFILE=<dir> for a CPU profile of that path alone).
const paths = process.env.BENCH_PATHS ?? 'user,backchannel';
const measureUser = paths.includes('user');
const measureBackchannel = paths.includes('backchannel');
const BOARD_CLIENT = 'bench-board-bff';
const PEER_CLIENT = 'bench-peer';

interface Rp {
  name: 'board-bff' | 'peer';
  url: string;
  pid: number;
  userPath: string;
  backchannelPath: string;
  clientId: string;
  cookie: string;
  stop(): Promise<void>;
}

const server = await startOwnRedis();
// A benchmark measures the RPs, not the disk: no append-only file (the helper turns it on for crash tests).
await server.command(['CONFIG', 'SET', 'appendonly', 'no']);
const redis = { url: server.url, ...redisCounters(server.url) };
const database = await createPostgresDatabase();
const op = await startDevProvider({ clientBaseUrl: 'http://127.0.0.1:1' });
const rps: Rp[] = [];
try {
  const replica = await startReplica({
    OIDC_ISSUER: op.issuer,
    CLIENT_ID: BOARD_CLIENT,
    CLIENT_SECRET,
    SESSION_SECRET: 'bench-session-secret-0123456789-abcdefghijklmnop',
    REDIS_URL: redis.url,
    DATABASE_URL: database.url,
    LIVENESS_INTERVAL_SECONDS: '0',
  }, process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []);
  const board = { name: 'board-bff' as const, url: replica.url, pid: replica.pid, userPath: '/api/user', backchannelPath: '/auth/backchannel-logout', clientId: BOARD_CLIENT, cookie: '', stop: replica.stop };
  rps.push(board);
  const peer = await startPeer({ ISSUER: op.issuer, CLIENT_ID: PEER_CLIENT, CLIENT_SECRET, SECRET: 'bench-peer-secret-0123456789-abcdefghijkl', REDIS_URL: redis.url, PREFIX: 'peer:sess:' });
  rps.push(peer);
  await registerClient(op, BOARD_CLIENT, `${board.url}/auth/callback`);
  await registerClient(op, PEER_CLIENT, `${peer.url}/callback`);
  board.cookie = await signIn(board, '/auth/login', 'bff.sid');
  peer.cookie = await signIn(peer, '/login', 'appSession');

  // Tokens are signed up front (the provider signs in this process). board-bff refuses a replayed
  // jti, so it gets fresh ones every round; the peer does not check jti, so one set serves it.
  const tokenDir = await mkdtemp(join(tmpdir(), 'bench-peer-'));
  const tokenFile = async (rp: Rp, count: number) => {
    const file = join(tokenDir, `${randomUUID()}.txt`);
    const lines = await Promise.all(Array.from({ length: count }, (_, i) => op.signLogoutToken({ sub: `nobody-${i}-${randomUUID()}`, aud: rp.clientId })));
    await writeFile(file, lines.join('\n'));
    return file;
  };
  const boardTokens = [await tokenFile(board, tokensPerRound / 2)];
  for (let r = 0; r < rounds; r++) boardTokens.push(await tokenFile(board, tokensPerRound));
  const peerTokens = await tokenFile(peer, tokensPerRound);

  const userRun = async (rp: Rp, runSeconds: number) => {
    const callsBefore = await redis.commandCalls();
    const readsBefore = await redis.readsProcessed();
    const cpuBefore = cpuMsOf(rp.pid);
    const result = await runWrk({ url: `${rp.url}${rp.userPath}`, seconds: runSeconds, connections: 50, headers: { cookie: rp.cookie } });
    const cpu = cpuMsOf(rp.pid) - cpuBefore;
    const calls = callsBetween(callsBefore, await redis.commandCalls());
    const reads = (await redis.readsProcessed()) - readsBefore;
    return { ...result, cpuUsPerRequest: (cpu * 1000) / result.requests, commands: perRequest(calls, result), readsPerRequest: reads / result.requests };
  };
  const backchannelRun = async (rp: Rp, file: string, runSeconds: number) => {
    const callsBefore = await redis.commandCalls();
    const cpuBefore = cpuMsOf(rp.pid);
    const result = await runWrk({ url: rp.url, seconds: runSeconds, connections: 32, script: postLinesScript(rp.backchannelPath, 'logout_token', file) });
    const cpu = cpuMsOf(rp.pid) - cpuBefore;
    return { ...result, cpuUsPerRequest: (cpu * 1000) / result.requests, commands: perRequest(callsBetween(callsBefore, await redis.commandCalls()), result) };
  };

  // Warm-up (JIT, connection pools) for both, then the measured rounds.
  for (const rp of rps) {
    if (measureUser) await userRun(rp, 2);
    if (measureBackchannel) await backchannelRun(rp, rp === board ? boardTokens[0]! : peerTokens, 2);
  }
  type Run = Awaited<ReturnType<typeof userRun>>;
  const user: Record<string, Run[]> = { 'board-bff': [], peer: [] };
  const backchannel: Record<string, Awaited<ReturnType<typeof backchannelRun>>[]> = { 'board-bff': [], peer: [] };
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? [board, peer] : [peer, board];
    if (measureUser) for (const rp of order) user[rp.name]!.push(await userRun(rp, seconds));
    if (measureBackchannel) for (const rp of order) backchannel[rp.name]!.push(await backchannelRun(rp, rp === board ? boardTokens[r + 1]! : peerTokens, Math.min(seconds, 3)));
  }

  const ratios = (runs: Record<string, WrkResult[]>) => median(runs['board-bff']!.map((b, i) => b.requestsPerSecond / runs.peer![i]!.requestsPerSecond));
  const med = (runs: { requestsPerSecond: number }[]) => Math.round(median(runs.map((r) => r.requestsPerSecond)));
  const medCpu = (runs: { cpuUsPerRequest: number }[]) => Math.round(median(runs.map((r) => r.cpuUsPerRequest)));
  const commandsIn = (commands: Record<string, number>) => {
    const total = Object.values(commands).reduce((a, b) => a + b, 0);
    return `${round(total)} (${Object.entries(commands).map(([name, n]) => `${name} ${round(n)}`).join(', ')})`;
  };
  const commandsOf = (runs: Run[]) => `${commandsIn(runs.at(-1)!.commands)}; ${round(median(runs.map((r) => r.readsPerRequest)))} reads`;
  const failures = [...Object.values(user), ...Object.values(backchannel)].flat().reduce((sum, r) => sum + r.non2xx, 0);

  const rows = [
    ...(measureUser
      ? [
          { path: 'GET /api/user, 50 connections, req/s', 'board-bff': med(user['board-bff']!), peer: med(user.peer!), ratio: round(ratios(user)) },
          { path: '… CPU µs per request', 'board-bff': medCpu(user['board-bff']!), peer: medCpu(user.peer!), ratio: round(medCpu(user['board-bff']!) / medCpu(user.peer!)) },
        ]
      : []),
    ...(measureBackchannel
      ? [
          { path: 'back-channel logout, 32 connections, tokens/s', 'board-bff': med(backchannel['board-bff']!), peer: med(backchannel.peer!), ratio: round(ratios(backchannel)) },
          { path: '… CPU µs per token', 'board-bff': medCpu(backchannel['board-bff']!), peer: medCpu(backchannel.peer!), ratio: round(medCpu(backchannel['board-bff']!) / medCpu(backchannel.peer!)) },
        ]
      : []),
  ];
  console.table(rows);
  if (measureUser) console.log(`Redis commands per GET /api/user: board-bff ${commandsOf(user['board-bff']!)}; peer ${commandsOf(user.peer!)}`);
  if (measureBackchannel) console.log(`Redis commands per logout token: board-bff ${commandsIn(backchannel['board-bff']!.at(-1)!.commands)}; peer ${commandsIn(backchannel.peer!.at(-1)!.commands)}`);
  if (failures > 0) {
    console.log(`WARNING: ${failures} non-2xx answers during the measured runs: figures are not comparable` +
      (measureBackchannel ? ' (a token file that ran out replays its jti: raise tokensPerRound)' : ''));
    process.exitCode = 1;
  }
  console.log('\n| path | board-bff | peer | board-bff / peer |\n|---|---|---|---|');
  for (const row of rows) console.log(`| ${row.path} | ${row['board-bff'].toLocaleString('en')} | ${row.peer.toLocaleString('en')} | ${row.ratio}× |`);
  console.log(JSON.stringify({ rounds, seconds, user, backchannel }));
} finally {
  await Promise.all(rps.map((rp) => rp.stop()));
  await op.close();
  await database.drop();
  redis.close();
  await server.stop();
}
process.exit(process.exitCode ?? 0);

/** Registers a confidential code-flow client at the provider (its adapter's dynamic clients). */
async function registerClient(provider: TestProvider, clientId: string, redirectUri: string): Promise<void> {
  await provider.provider.Client.adapter.upsert(clientId, {
    client_id: clientId,
    client_secret: CLIENT_SECRET,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  });
}

/** Signs alice in at `rp` through the real code flow; returns the Cookie header for its session. */
async function signIn(rp: Rp, loginPath: string, cookieName: string): Promise<string> {
  const agent = new UserAgent();
  agent.setCookie(op.issuer, LOGIN_AS_COOKIE, 'alice');
  const nav = await agent.navigate(`${rp.url}${loginPath}`);
  const value = agent.cookie(rp.url, cookieName);
  if (!value) throw new Error(`${rp.name}: no ${cookieName} cookie after signing in (${nav.hops.join(" -> ")}: ${nav.response.status} ${nav.body.slice(0, 300)})`);
  const cookie = `${cookieName}=${value}`;
  const response = await fetch(`${rp.url}${rp.userPath}`, { headers: { cookie }, redirect: 'manual' });
  if (response.status !== 200) throw new Error(`${rp.name}: GET ${rp.userPath} answered ${response.status} after signing in`);
  return cookie;
}

async function startPeer(env: Record<string, string>): Promise<Rp> {
  const child: ChildProcess = spawn(process.execPath, [new URL('./peerServer.mjs', import.meta.url).pathname], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', DEBUG: process.env.PEER_DEBUG ?? '', ...env },
  });
  const port = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the peer exited (${code})`)));
    child.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name: 'peer',
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    userPath: '/api/user',
    backchannelPath: '/backchannel-logout',
    clientId: PEER_CLIENT,
    cookie: '',
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function perRequest(calls: Record<string, number>, result: WrkResult): Record<string, number> {
  return Object.fromEntries(Object.entries(calls).map(([name, n]) => [name, n / result.requests]));
}


function round(value: number): number {
  return Math.round(value * 100) / 100;
}
