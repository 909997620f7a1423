import pg from 'pg';

/**
 * Which PostgreSQL the tests use, in this order:
 *  1. `TEST_DATABASE_URL`, else `DATABASE_URL` (CI or a developer's own server);
 *  2. a server answering on 127.0.0.1:5432 (trust auth, database `test`, user `postgres`);
 *  3. a throwaway container through testcontainers, only if a Docker engine answers;
 *  4. otherwise a clear failure saying what to start.
 * The URL is an admin connection: tests create and drop their own databases through it.
 */
export interface PostgresServer {
  adminUrl: string;
  source: 'env' | 'local' | 'testcontainers';
  stop(): Promise<void>;
}

export const localServerUrl = 'postgres://postgres@127.0.0.1:5432/test';

export async function resolvePostgresServer(env: NodeJS.ProcessEnv = process.env): Promise<PostgresServer> {
  const fromEnv = env.TEST_DATABASE_URL?.trim() || env.DATABASE_URL?.trim();
  if (fromEnv) {
    const name = env.TEST_DATABASE_URL?.trim() ? 'TEST_DATABASE_URL' : 'DATABASE_URL';
    const problem = await probe(fromEnv, 5_000);
    if (problem) throw new Error(`${name} is set but its PostgreSQL does not answer: ${problem}`);
    return { adminUrl: fromEnv, source: 'env', stop: async () => undefined };
  }
  const localProblem = await probe(localServerUrl, 2_000);
  if (!localProblem) return { adminUrl: localServerUrl, source: 'local', stop: async () => undefined };

  const container = await startContainer();
  if (container) return container;
  throw new Error(
    'No PostgreSQL for the tests. Set TEST_DATABASE_URL (postgres://user@host:port/db, a user allowed to CREATE DATABASE), ' +
      `or start PostgreSQL on 127.0.0.1:5432 with trust auth and a database "test" (tried ${localServerUrl}: ${localProblem}; ` +
      'on Debian: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start), or start a Docker engine for testcontainers.',
  );
}

/** undefined when the server answers `SELECT 1`, else why not. */
async function probe(url: string, timeoutMs: number): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (err) {
    return (err as Error).message || (err as { code?: string }).code || String(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function startContainer(): Promise<PostgresServer | undefined> {
  const { GenericContainer, Wait, getContainerRuntimeClient } = await import('testcontainers');
  try {
    await getContainerRuntimeClient();
  } catch {
    return undefined; // no Docker engine: not an error by itself, the caller explains what to start
  }
  const container = await new GenericContainer('postgres:16-alpine')
    .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust', POSTGRES_DB: 'test' })
    .withExposedPorts(5432)
    // The entrypoint starts the server twice (init, then for real): wait for the second "ready".
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .start();
  return {
    adminUrl: `postgres://postgres@${container.getHost()}:${container.getMappedPort(5432)}/test`,
    source: 'testcontainers',
    stop: async () => {
      await container.stop();
    },
  };
}
