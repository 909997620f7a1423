import { join } from 'node:path';
import { startServerProcess, type ServerProcess } from '../../support/serverProcess.js';
import type { E2eEnv } from './env.js';

export interface Replicas {
  a: ServerProcess;
  b: ServerProcess;
  stop(): Promise<void>;
}

function replicaEnv(env: E2eEnv, extra: Record<string, string>): Record<string, string> {
  return {
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
    // Keycloak posts logout tokens from loopback here: never rate-limit them (realm-wide sign-outs come in bursts).
    RATE_LIMIT_PROVIDER_ADDRESSES: '127.0.0.1,::1',
    // Every browser of the suite signs in from loopback, far more often than a person: the limits have their own tests.
    RATE_LIMIT_LOGIN: '0',
    RATE_LIMIT_CALLBACK: '0',
    ...extra,
  };
}

/**
 * The app as it runs in production: separate processes, `node --import tsx src/server.ts`, configured
 * only through environment variables, sharing one Redis and one PostgreSQL. Both replicas share the
 * session secret, so a cookie set by one is valid on the other.
 */
export async function startReplicas(env: E2eEnv, extra: Record<string, string> = {}): Promise<Replicas> {
  const start = (name: string, url: string) =>
    startServerProcess({ entry: 'src', url, env: replicaEnv(env, extra), logFile: join(env.logDir, `replica-${name}.log`) });
  const [a, b] = await Promise.allSettled([start('A', env.replicaUrls[0]), start('B', env.replicaUrls[1])]);
  if (a.status === 'rejected' || b.status === 'rejected') {
    await Promise.all([a, b].map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
    throw a.status === 'rejected' ? a.reason : (b as PromiseRejectedResult).reason;
  }
  return { a: a.value, b: b.value, stop: async () => void (await Promise.all([a.value.stop(), b.value.stop()])) };
}
