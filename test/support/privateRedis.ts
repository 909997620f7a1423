import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';

export interface PrivateRedis {
  url: string;
  /** A client of its own (for INFO and the like); closed by `stop`. */
  admin: Redis;
  /** Calls per command name since start or the last CONFIG RESETSTAT, from INFO commandstats. */
  commandCalls(): Promise<Record<string, number>>;
  /** INFO stats `total_reads_processed`: read events, i.e. client round trips when one client talks at a time. */
  readsProcessed(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * A `redis-server` of our own on a free loopback port, no persistence: for counting commands
 * (INFO commandstats counts the whole server, and the shared one serves every suite at once).
 * Stopped by its PID.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', () => undefined);
  const url = `redis://127.0.0.1:${port}`;
  const admin = new Redis(url, { lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: 0 });
  admin.on('error', () => undefined); // refused while the server starts; the loop below retries
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await admin.connect();
      await admin.ping();
      break;
    } catch (err) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`redis-server did not start on port ${port} (is the Debian package redis-server installed?): ${(err as Error).message}`);
      }
      admin.disconnect();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  admin.options.maxRetriesPerRequest = 1;
  return {
    url,
    admin,
    async commandCalls() {
      const info = await admin.info('commandstats');
      const calls: Record<string, number> = {};
      for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1]!] = Number(match[2]);
      return calls;
    },
    async readsProcessed() {
      return Number(/total_reads_processed:(\d+)/.exec(await admin.info('stats'))?.[1] ?? NaN);
    },
    async stop() {
      admin.disconnect();
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** `after - before` per command, dropping zeros and the commands of the counting itself. */
export function callsBetween(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [name, calls] of Object.entries(after)) {
    const d = calls - (before[name] ?? 0);
    if (d > 0 && name !== 'info') delta[name] = d;
  }
  return delta;
}
