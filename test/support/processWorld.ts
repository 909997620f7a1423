import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLIENT_ID, CLIENT_SECRET, startDevProvider, type TestProvider } from '../../dev/oidcProvider.js';
import { startFlags } from '../../scripts/buildServer.js';
import { redisUrlForTests } from './sharedRedis.js';
import { freePort } from './ports.js';
import { startServerProcess, type ServerProcess } from './serverProcess.js';
import { createPostgresDatabase, type PostgresDatabase } from './postgresDatabase.js';
import { TEST_SESSION_SECRET } from './testApp.js';

export interface ProcessWorld {
  op: TestProvider;
  /** Replicas as separate processes of the server, sharing BASE_URL (the first's), Redis and PostgreSQL. */
  replicas: ServerProcess[];
  baseUrl: string;
  redisUrl: string;
  prefix: string;
  database: PostgresDatabase;
  /** Starts one more replica with the same settings (e.g. to replace a stopped one), of checkout `root` if given. */
  startReplica(extraEnv?: Record<string, string>, root?: string): Promise<ServerProcess>;
  close(): Promise<void>;
}

/**
 * Like `startWorld`, but each replica is its own process, configured only by its environment, so
 * signals (SIGTERM) and process exits are real. The provider runs in the test process.
 */
export async function startProcessWorld(options: {
  replicas?: number;
  /** Default: the shared test Redis (under a key prefix of this world's own). */
  redisUrl?: string;
  env?: Record<string, string>;
  /** `dist` runs the build as `npm start` does (its node flags too; build it first); `src` by default. */
  entry?: 'src' | 'dist';
}): Promise<ProcessWorld> {
  const ports = await Promise.all(Array.from({ length: options.replicas ?? 2 }, () => freePort()));
  const baseUrl = `http://127.0.0.1:${ports[0]}`;
  const op = await startDevProvider({ clientBaseUrl: baseUrl });
  const redisUrl = options.redisUrl ?? (await redisUrlForTests());
  const prefix = `test:${randomUUID().slice(0, 8)}:`;
  const database = await createPostgresDatabase();
  const env = {
    OIDC_ISSUER: op.issuer,
    CLIENT_ID,
    CLIENT_SECRET,
    SESSION_SECRET: TEST_SESSION_SECRET,
    BASE_URL: baseUrl,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    DATABASE_URL: database.url,
    LIVENESS_INTERVAL_SECONDS: '0',
    // Suites sign in far more often than a person, all from loopback: the rate limits have their own tests.
    RATE_LIMIT_LOGIN: '0',
    RATE_LIMIT_CALLBACK: '0',
    LOG_LEVEL: 'info',
    ...options.env,
  };
  const replicas: ServerProcess[] = [];
  const start = async (port: number, extraEnv: Record<string, string> = {}, root?: string) => {
    const replica = await startServerProcess({
      ...(root ? { root } : {}),
      entry: options.entry ?? 'src',
      ...(options.entry === 'dist' ? { nodeArgs: startFlags() } : {}),
      url: `http://127.0.0.1:${port}`,
      env: { ...env, ...extraEnv },
      logFile: join(tmpdir(), `board-bff-${prefix.replaceAll(':', '-')}${port}.log`),
    });
    replicas.push(replica);
    return replica;
  };
  try {
    await Promise.all(ports.map((port) => start(port)));
  } catch (error) {
    await Promise.all(replicas.map((replica) => replica.stop()));
    await op.close();
    await database.drop();
    throw error;
  }
  replicas.sort((x, y) => ports.indexOf(Number(new URL(x.url).port)) - ports.indexOf(Number(new URL(y.url).port)));
  return {
    op,
    replicas,
    baseUrl,
    redisUrl,
    prefix,
    database,
    startReplica: async (extraEnv, root) => start(await freePort(), extraEnv, root),
    async close() {
      await Promise.all(replicas.map((replica) => replica.stop()));
      await op.close();
      await database.drop();
    },
  };
}
