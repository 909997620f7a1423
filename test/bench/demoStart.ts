/**
 * A/B of `npm run demo` (README "Performance"): from spawning the command until it prints "ready"
 * (the BFF answered /readyz 200), with the CPU time its processes used until then (user + system,
 * the ones already ended included, through their parents' accounts: steadier than wall time on a
 * busy machine); then, after `settle` seconds, the RSS of the BFF process and of
 * all the demo's processes together (npm, the demo with its provider, esbuild, the BFF), read from
 * /proc. Then the first board use: alice loads the page and signs in through the demo's provider
 * (the code flow, as a browser does it; timed together as "sign-in"), `GET /api/posts` is timed from sign-in to its answer (with a lazily started
 * embedded database, this waits for its start), and both RSS figures are read again after `settle`.
 * With `baseline=<checkout>` the same is taken from that checkout, rounds alternating, and
 * the medians of both are printed with the median per-round ratios. Each demo runs on free ports and
 * is stopped with SIGTERM to its process group.
 *
 *   npx tsx test/bench/demoStart.ts [rounds=3] [settle=3] [baseline=/path/to/other/checkout]
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TestProvider } from '../../dev/oidcProvider.js';
import { freePort } from '../support/ports.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn } from '../support/world.js';
import { median } from './stats.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const options = Object.fromEntries(process.argv.slice(2).map((arg) => [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]));
const rounds = Number(options.rounds ?? 3);
const settleMs = Number(options.settle ?? 3) * 1000;
const variants = [{ name: 'this checkout', root: ROOT }];
if (options.baseline) variants.push({ name: 'baseline', root: options.baseline });

interface Sample {
  readyMs: number;
  cpuMs: number;
  bffRssMiB: number;
  allRssMiB: number;
  signInMs: number;
  firstBoardMs: number;
  bffRssAfterBoardMiB: number;
  allRssAfterBoardMiB: number;
}
const results = new Map<string, Sample[]>(variants.map((v) => [v.name, []]));
for (let round = 0; round < rounds; round++) {
  for (const variant of round % 2 ? [...variants].reverse() : variants) {
    const sample = await demoOnce(variant.root);
    results.get(variant.name)!.push(sample);
    console.log(JSON.stringify({ variant: variant.name, round, ...sample }));
  }
}
const rows: Record<string, Record<string, number>> = {};
for (const [name, samples] of results) {
  rows[name] = {
    'command → ready, ms': Math.round(median(samples.map((s) => s.readyMs))),
    'CPU until ready, ms': Math.round(median(samples.map((s) => s.cpuMs))),
    'BFF RSS, MiB': Math.round(median(samples.map((s) => s.bffRssMiB))),
    'all processes RSS, MiB': Math.round(median(samples.map((s) => s.allRssMiB))),
    'sign-in, ms': Math.round(median(samples.map((s) => s.signInMs))),
    'first GET /api/posts, ms': Math.round(median(samples.map((s) => s.firstBoardMs))),
    'BFF RSS after board use, MiB': Math.round(median(samples.map((s) => s.bffRssAfterBoardMiB))),
    'all RSS after board use, MiB': Math.round(median(samples.map((s) => s.allRssAfterBoardMiB))),
  };
}
if (options.baseline) {
  const [a, b] = [results.get('this checkout')!, results.get('baseline')!];
  const ratio = (pick: (s: Sample) => number) => Number(median(a.map((s, i) => pick(s) / pick(b[i]!))).toFixed(2));
  rows['ratio (this / baseline)'] = {
    'command → ready, ms': ratio((s) => s.readyMs),
    'CPU until ready, ms': ratio((s) => s.cpuMs),
    'BFF RSS, MiB': ratio((s) => s.bffRssMiB),
    'all processes RSS, MiB': ratio((s) => s.allRssMiB),
    'sign-in, ms': ratio((s) => s.signInMs),
    'first GET /api/posts, ms': ratio((s) => s.firstBoardMs),
    'BFF RSS after board use, MiB': ratio((s) => s.bffRssAfterBoardMiB),
    'all RSS after board use, MiB': ratio((s) => s.allRssAfterBoardMiB),
  };
}
console.table(rows);

async function demoOnce(root: string): Promise<Sample> {
  const started = performance.now();
  const [port, providerPort] = [await freePort(), await freePort()];
  const child = spawn('npm', ['run', 'demo'], {
    cwd: root,
    detached: true,
    env: { ...process.env, PORT: String(port), DEMO_PROVIDER_PORT: String(providerPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const readyMs = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (/ready in/.test(output)) resolve(performance.now() - started);
    });
    child.once('exit', (code) => reject(new Error(`the demo exited (${code}):\n${output}`)));
  });
  const cpuMs = groupMembers(child.pid!).reduce((sum, pid) => sum + cpuWithChildrenMs(pid), 0);
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  const before = rssOf(child.pid!);

  const baseUrl = `http://127.0.0.1:${port}`;
  const alice = new UserAgent();
  const signInStarted = performance.now();
  // As a browser begins: the page, then "Sign in" (a page load is the embedded database's cue to start).
  await (await alice.fetch(`${baseUrl}/`, { headers: { accept: 'text/html' } })).arrayBuffer();
  await signIn(alice, { op: { issuer: `http://127.0.0.1:${providerPort}` } as TestProvider, baseUrl }, 'alice');
  const signedIn = performance.now();
  const posts = await alice.fetch(`${baseUrl}/api/posts`);
  if (posts.status !== 200) throw new Error(`GET /api/posts answered ${posts.status}: ${await posts.text()}`);
  const firstBoardMs = performance.now() - signedIn;
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  const after = rssOf(child.pid!);

  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-child.pid!, 'SIGTERM');
  await exited;
  return {
    readyMs,
    cpuMs,
    bffRssMiB: before.bff,
    allRssMiB: before.all,
    signInMs: signedIn - signInStarted,
    firstBoardMs,
    bffRssAfterBoardMiB: after.bff,
    allRssAfterBoardMiB: after.all,
  };
}

/** RSS of the BFF process and of all the demo's processes (process group `pgid`), MiB. */
function rssOf(pgid: number): { bff: number; all: number } {
  let bff = NaN;
  let all = 0;
  for (const pid of groupMembers(pgid)) {
    const rss = rssMiB(pid);
    all += rss;
    if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('server.')) bff = rss;
  }
  return { bff, all };
}

/** Processes in process group `pgid` (the demo was started as its leader). */
function groupMembers(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[2]) === pgid;
      } catch {
        return false;
      }
    });
}

/** utime + stime + cutime + cstime of `pid` (its ended, reaped children included), ms; USER_HZ = 100. */
function cpuWithChildrenMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0) * 10;
  } catch {
    return 0;
  }
}

function rssMiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}
