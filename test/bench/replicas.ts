import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFlags } from '../../scripts/buildServer.js';
import { freePort } from '../support/ports.js';
import { startServerProcess } from '../support/serverProcess.js';

// Linux's USER_HZ, the unit of utime/stime in /proc/<pid>/stat (100 on every mainstream kernel).
const CLOCK_TICKS_PER_SECOND = 100;

export interface Replica {
  url: string;
  pid: number;
  rssKiB(): number;
  /** CPU time (user + system) the replica has used so far, ms: per-request cost survives a noisy host better than req/s. */
  cpuMs(): number;
  /** Runs a full GC in the replica (SIGUSR2, see gcOnSignal.mjs) and waits for it to settle. */
  collectGarbage(): Promise<void>;
  stop(): Promise<void>;
}


/**
 * Starts the built server (`dist/server.js`, of `root` if given: a baseline checkout for A/B runs) as
 * its own process, with a GC hook, and waits until it is ready. `nodeArgs` default to the checkout's
 * `npm start` flags (startFlags).
 */
export async function startReplica(env: Record<string, string>, nodeArgs?: string[], root?: string): Promise<Replica> {
  const port = await freePort();
  const server = await startServerProcess({
    entry: 'dist',
    url: `http://127.0.0.1:${port}`,
    // Production's log level, so each request pays for its access-log line; the lines go to a file.
    env: { LOG_LEVEL: 'info', ...env },
    logFile: join(tmpdir(), `board-bff-bench-${port}.log`),
    nodeArgs: ['--import', new URL('./gcOnSignal.mjs', import.meta.url).pathname, ...(nodeArgs ?? startFlags(root))],
    readyTimeoutMs: 30_000,
    ...(root ? { root } : {}),
  });
  const pid = server.child.pid!;
  return {
    url: server.url,
    pid,
    async collectGarbage() {
      server.child.kill('SIGUSR2');
      await new Promise((resolve) => setTimeout(resolve, 500));
    },
    cpuMs: () => cpuMsOf(pid),
    rssKiB: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN),
    stop: server.stop,
  };
}

/** CPU time (user + system) process `pid` has used so far, ms, from /proc. */
export function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** CPU time (user + system) of process `pid`'s main thread (the event loop) so far, ms. */
export function mainThreadCpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Runs `measure` against a bare Node HTTP server (bareServer.mjs) started for the purpose. */
export async function withBareServer<T>(measure: (url: string) => Promise<T>): Promise<T> {
  const child = spawn(process.execPath, [new URL('./bareServer.mjs', import.meta.url).pathname], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) => child.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString().trim())));
  try {
    return await measure(`http://127.0.0.1:${port}`);
  } finally {
    child.kill();
  }
}
