import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { E2eEnv } from './env.js';

/**
 * The app as it runs in production: separate processes, `node --import tsx src/server.ts`, configured
 * only through environment variables, sharing one Redis and one PostgreSQL. Both replicas share the
 * session secret, so a cookie set by one is valid on the other.
 */
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const SERVER = join(ROOT, 'src', 'server.ts');

export interface Replica {
  name: string;
  url: string;
  logFile: string;
  process: ChildProcess;
}

export interface Replicas {
  a: Replica;
  b: Replica;
  stop(): Promise<void>;
}

export function replicaEnv(env: E2eEnv, url: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PORT: new URL(url).port,
    HOST: '127.0.0.1',
    BASE_URL: url,
    FRONTEND_URL: env.frontendUrl,
    KEYCLOAK_URL: env.keycloak.url,
    KEYCLOAK_REALM: 'board',
    CLIENT_ID: env.clientId,
    CLIENT_SECRET: env.clientSecret,
    SESSION_SECRET: env.sessionSecret,
    REDIS_URL: env.redisUrl,
    REDIS_PREFIX: env.redisPrefix,
    DATABASE_URL: env.databaseUrl,
    LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'debug',
    LIVENESS_INTERVAL_SECONDS: String(env.livenessIntervalSeconds),
    SSE_HEARTBEAT_SECONDS: '5',
    // Access tokens live ACCESS_TOKEN_LIFESPAN_SECONDS (10 s) in the test realm: refresh shortly before.
    TOKEN_REFRESH_SKEW_SECONDS: '2',
    ...extra,
  };
}

function startReplica(env: E2eEnv, name: string, url: string, extra: Record<string, string>): Replica {
  const logFile = join(env.logDir, `replica-${name}.log`);
  const log = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
    cwd: ROOT,
    stdio: ['ignore', log, log],
    // Only what a deployment would set: PATH for tsx, and the documented settings.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...replicaEnv(env, url, extra) },
  });
  return { name, url, logFile, process: child };
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Ready = `/readyz` answers 200 (Redis, database and the provider's metadata reachable). */
async function waitReady(replica: Replica, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    if (replica.process.exitCode !== null || replica.process.signalCode !== null) {
      throw new Error(`replica ${replica.name} exited (${replica.process.exitCode ?? replica.process.signalCode}):\n${tail(replica.logFile)}`);
    }
    try {
      const response = await fetch(`${replica.url}/readyz`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
      last = `${response.status} ${(await response.text()).slice(0, 200)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`replica ${replica.name} not ready at ${replica.url}/readyz: ${last}\n${tail(replica.logFile)}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

async function stopReplica(replica: Replica): Promise<void> {
  const child = replica.process;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

export async function startReplicas(env: E2eEnv, extra: Record<string, string> = {}): Promise<Replicas> {
  if (!existsSync(SERVER)) throw new Error(`${SERVER} does not exist: the app must be built before its end-to-end suite runs`);
  const a = startReplica(env, 'A', env.replicaUrls[0], extra);
  const b = startReplica(env, 'B', env.replicaUrls[1], extra);
  const stop = async () => {
    await Promise.all([stopReplica(a), stopReplica(b)]);
  };
  try {
    await Promise.all([waitReady(a), waitReady(b)]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { a, b, stop };
}
