import type { Config } from '../config/loadConfig.js';
import type { Logger } from '../logger.js';

export interface QueryResult<T> {
  rows: T[];
  /** Rows returned by a SELECT or touched by INSERT/UPDATE/DELETE. */
  rowCount: number;
}

/** What repositories need: parameterised statements, and scripts for migrations. */
export interface Queryable {
  /** One statement; values only through `params` ($1, $2, …), never spliced into `sql`. */
  query<T extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>>;
  /** A script of several statements without parameters (migrations only). */
  exec(script: string): Promise<void>;
}

/**
 * The SQL database behind the board: a `pg` pool on PostgreSQL, or embedded PGlite.
 * Every method rejects with the 503 `unavailable('database')` HttpError when the database cannot be
 * reached, so callers never turn a dead database into a 500.
 */
export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `fn` in BEGIN … COMMIT on one connection; rolls back when `fn` throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type DatabaseSettings = Config['database'];

/** PostgreSQL when `DATABASE_URL` is set, otherwise embedded PGlite (memory, or `PGLITE_DIR`). */
export async function createDatabase(settings: DatabaseSettings, log: Logger): Promise<Database> {
  if (settings.url !== undefined) {
    // Imported lazily so a PGlite-only process never loads pg, and vice versa (PGlite's WASM is large).
    const { createPgDatabase } = await import('./pgDatabase.js');
    return createPgDatabase({ ...settings, url: settings.url }, log);
  }
  const { createPgliteDatabase } = await import('./pgliteDatabase.js');
  return createPgliteDatabase({ dataDir: settings.pgliteDir }, log);
}
