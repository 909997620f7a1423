import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/ports.js';

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


/** Starts the built server (`dist/server.js`) as its own process and waits until /readyz says ready. */
export async function startReplica(env: Record<string, string>, nodeArgs: string[] = []): Promise<Replica> {
  const port = await freePort();
  const logFile = join(tmpdir(), `board-bff-bench-${port}.log`);
  const preload = ['--expose-gc', '--import', new URL('./gcOnSignal.mjs', import.meta.url).pathname];
  const child: ChildProcess = spawn(process.execPath, [...preload, ...nodeArgs, 'dist/server.js'], {
    // Production's log level, so each request pays for its access-log line; the lines go to a file.
    env: { PATH: process.env.PATH, LOG_LEVEL: 'info', BASE_URL: `http://127.0.0.1:${port}`, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', openSync(logFile, 'w'), 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`replica exited with ${child.exitCode}; see ${logFile}`);
    const ready = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`replica on ${url} did not become ready`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    pid: child.pid!,
    async collectGarbage() {
      child.kill('SIGUSR2');
      await new Promise((resolve) => setTimeout(resolve, 500));
    },
    cpuMs: () => {
      const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
    },
    rssKiB: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? NaN),
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
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
