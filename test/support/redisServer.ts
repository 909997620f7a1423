import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';

export interface OwnRedis {
  url: string;
  /** Stops this server (by its PID) and removes its directory. */
  stop(): Promise<void>;
}

/**
 * A `redis-server` of the test's own on a free loopback port, for tests that break connections or
 * stop the server: never the shared one. Nothing is persisted.
 */
export async function startRedisServer(): Promise<OwnRedis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'board-bff-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  probe.on('error', () => undefined);
  try {
    for (let tries = 0; ; tries++) {
      if (child.exitCode !== null) throw new Error(`redis-server exited at once (${child.exitCode}); is it installed?`);
      try {
        await probe.connect();
        await probe.ping();
        break;
      } catch {
        if (tries === 50) throw new Error(`redis-server on port ${port} did not answer within 5 s`);
        probe.disconnect();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    probe.disconnect();
  }
  return {
    url,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
