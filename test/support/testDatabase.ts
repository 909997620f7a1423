import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { resolveTestServer, type TestServer } from './testServer.js';

export interface TestDatabase {
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

let server: Promise<TestServer> | undefined;

/** The admin URL: from globalSetup when configured, else chosen here (once per test file's worker). */
async function adminUrl(): Promise<string> {
  let provided: string | undefined;
  try {
    provided = inject('testDatabaseUrl');
  } catch {
    // Outside a test worker (a globalSetup, the benchmarks): choose here.
  }
  if (provided) return provided;
  server ??= resolveTestServer();
  return (await server).adminUrl;
}

/**
 * Creates a database for one test file, so files running in parallel never see each other's rows,
 * and migrations are exercised on a truly empty schema.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
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

async function withAdmin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}


