import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createDatabase, type Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { databaseSettings } from './databaseSettings.js';
import { resolvePostgresServer, type PostgresServer } from './postgresServer.js';

export interface PostgresDatabase {
  /** A fresh, empty database of its own: `postgres://…/board_test_<random>`. */
  url: string;
  drop(): Promise<void>;
}

declare module 'vitest' {
  interface ProvidedContext {
    /** Set by test/support/postgresGlobalSetup.ts when the config uses it: one server (or container) for all files. */
    testDatabaseUrl?: string;
  }
}

let server: Promise<PostgresServer> | undefined;

/** The admin URL: from globalSetup when configured, else chosen here (once per test file's worker). */
async function adminUrl(): Promise<string> {
  let provided: string | undefined;
  try {
    provided = inject('testDatabaseUrl');
  } catch {
    // Outside a test worker (a globalSetup, the benchmarks): choose here.
  }
  if (provided) return provided;
  server ??= resolvePostgresServer();
  return (await server).adminUrl;
}

/**
 * Creates a database for one test file, so files running in parallel never see each other's rows,
 * and migrations are exercised on a truly empty schema.
 */
export async function createPostgresDatabase(): Promise<PostgresDatabase> {
  const admin = await adminUrl();
  const name = `board_test_${randomBytes(6).toString('hex')}`;
  await withAdmin(admin, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      // A container started here (no globalSetup) is removed by testcontainers' reaper when the worker exits.
      await withAdmin(admin, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/** A fresh database (see createPostgresDatabase) with the app's driver connected to it. */
export interface ConnectedDatabase {
  url: string;
  db: Database;
  /** Closes the driver, then drops the database. */
  close(): Promise<void>;
}

/**
 * createPostgresDatabase, then the app's driver on it (`poolMax` connections, logging to `log`,
 * silent by default), migrated unless `migrated: false` (for tests of migrate itself or of the bare
 * driver). On a failure half-way, what was made is closed and dropped again.
 */
export async function connectPostgresDatabase(options: { poolMax: number; migrated?: boolean; log?: Logger }): Promise<ConnectedDatabase> {
  const log = options.log ?? createLogger({ level: 'silent' });
  const database = await createPostgresDatabase();
  let db: Database | undefined;
  try {
    db = await createDatabase(databaseSettings({ url: database.url, poolMax: options.poolMax }), log);
    if (options.migrated ?? true) await migrate(db, log);
  } catch (err) {
    await db?.close();
    await database.drop();
    throw err;
  }
  const connected = db;
  return {
    url: database.url,
    db: connected,
    close: async () => {
      try {
        await connected.close();
      } finally {
        await database.drop();
      }
    },
  };
}

async function withAdmin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}


