import { randomUUID } from 'node:crypto';
import { LOGIN_AS_COOKIE, startDevProvider, type AccountId, type TestProvider } from '../../dev/oidcProvider.js';
import { startOwnRedis, type OwnRedis } from './ownRedis.js';
import { redisUrlForTests } from './sharedRedis.js';
import { createPostgresDatabase } from './postgresDatabase.js';
import { listenOnLoopback, startTestApp, urlOf, type TestApp } from './testApp.js';
import type { Navigation, UserAgent } from './userAgent.js';

export interface World {
  op: TestProvider;
  /** Replicas sharing one BASE_URL (the first's), one Redis (unless in-process) and one provider. */
  apps: TestApp[];
  baseUrl: string;
  prefix: string;
  /** The world's own redis-server (`ownRedis: true`), for tests that stall, kill or restart it. */
  redis?: OwnRedis;
  close(): Promise<void>;
}

/**
 * A provider and `replicas` app instances. With `redis: true` (the default) they share real Redis
 * under a key prefix of their own, so test files never see each other's keys; they share a fresh
 * PostgreSQL database of their own too, or each embeds PGlite with `database: 'pglite'`.
 */
export async function startWorld(options: {
  replicas?: number;
  redis?: boolean;
  database?: 'postgres' | 'pglite';
  /** Wait for the board schema before returning (false for a world whose database is meant to be down). */
  awaitSchema?: boolean;
  env?: Record<string, string>;
  /** Settings of one replica each, over `env` (replica i gets `replicaEnv[i]`). */
  replicaEnv?: Record<string, string>[];
  /** Settings naming another Redis deployment (Sentinel, Cluster) in place of the shared REDIS_URL. */
  redisEnv?: Record<string, string>;
  /** A redis-server of the world's own (never the shared one), stopped with the world. */
  ownRedis?: boolean;
  accessTokenTtlSeconds?: number;
} = {}): Promise<World> {
  const servers = await Promise.all(Array.from({ length: options.replicas ?? 1 }, listenOnLoopback));
  const baseUrl = urlOf(servers[0]!);
  const op = await startDevProvider({
    clientBaseUrl: baseUrl,
    ...(options.accessTokenTtlSeconds ? { accessTokenTtlSeconds: options.accessTokenTtlSeconds } : {}),
  });
  const prefix = `test:${randomUUID().slice(0, 8)}:`;
  const own = options.ownRedis ? await startOwnRedis() : undefined;
  const redisUrl = options.redis === false || options.redisEnv ? undefined : (own?.url ?? (await redisUrlForTests()));
  const database = options.database === 'pglite' ? undefined : await createPostgresDatabase();
  const apps = await Promise.all(
    servers.map((server, i) =>
      startTestApp({
        issuer: op.issuer,
        server,
        baseUrl,
        env: { REDIS_URL: redisUrl, ...options.redisEnv, REDIS_PREFIX: prefix, DATABASE_URL: database?.url, ...options.env, ...options.replicaEnv?.[i] },
        awaitSchema: options.awaitSchema ?? true,
        awaitRedis: options.redis !== false,
      }),
    ),
  );
  return {
    op,
    apps,
    baseUrl,
    prefix,
    ...(own ? { redis: own } : {}),
    async close() {
      try {
        await Promise.all(apps.map((app) => app.close()));
        await op.close();
        await database?.drop();
      } finally {
        await own?.stop();
      }
    },
  };
}

/**
 * Signs `agent` in as `account` through the real code flow, starting at the world's /auth/login
 * (a World, or a ProcessWorld of separate server processes).
 */
export async function signIn(agent: UserAgent, world: Pick<World, 'op' | 'baseUrl'>, account: AccountId | 'deny' = 'alice', query = ''): Promise<Navigation> {
  agent.setCookie(world.op.issuer, LOGIN_AS_COOKIE, account);
  return agent.navigate(`${world.baseUrl}/auth/login${query}`);
}
