import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';

export interface OwnRedis {
  /** `redis://127.0.0.1:<port>` (default user). */
  url: string;
  port: number;
  /** A connection as the default user, for the test's own commands (ACL, CONFIG). */
  admin: Redis;
  stop(): Promise<void>;
}

/**
 * A throw-away `redis-server` on a free loopback port, no persistence: for tests that make Redis
 * misbehave (refuse commands, fill up, stop), never the shared one. Stopped by its own PID.
 */
export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `redis://127.0.0.1:${port}`;
  const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 100 });
  admin.on('error', () => undefined); // refused while the server starts; the loop below retries
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.connect();
      await admin.ping();
      break;
    } catch (err) {
      if (attempt >= 50 || child.exitCode !== null) {
        child.kill('SIGKILL');
        throw new Error(`redis-server did not start on port ${port}: ${(err as Error).message}`);
      }
      admin.disconnect();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    url,
    port,
    admin,
    async stop() {
      admin.disconnect();
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
