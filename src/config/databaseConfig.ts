import { ConfigError, type EnvReader } from './envReader.js';

export interface DatabaseConfig {
  url: string | undefined;
  pgliteDir: string | undefined;
  poolMax: number;
  /** Time to open a connection or wait for a free one in the pool. */
  connectTimeoutMs: number;
  /** Server-side `statement_timeout`; the client gives up a little later if the server goes silent. */
  statementTimeoutMs: number;
}

/** PostgreSQL (DATABASE_URL) or embedded PGlite (PGLITE_DIR, or in memory), and the pool's limits. */
export function readDatabaseConfig(env: EnvReader): DatabaseConfig {
  const { read, int, url } = env;
  const databaseUrl = read('DATABASE_URL');
  if (databaseUrl !== undefined) url('DATABASE_URL', databaseUrl, ['postgres:', 'postgresql:']);
  const pgliteDir = read('PGLITE_DIR');
  if (databaseUrl !== undefined && pgliteDir !== undefined) {
    throw new ConfigError('PGLITE_DIR has no effect when DATABASE_URL is set: set one of them');
  }
  return {
    url: databaseUrl,
    pgliteDir,
    poolMax: int('DATABASE_POOL_MAX', 10, 1, 200),
    connectTimeoutMs: int('DATABASE_CONNECT_TIMEOUT_MS', 5000, 100, 60_000),
    statementTimeoutMs: int('DATABASE_STATEMENT_TIMEOUT_MS', 10_000, 100, 600_000),
  };
}
