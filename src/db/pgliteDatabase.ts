import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { Logger } from '../logger.js';
import type { Database, Queryable, QueryResult } from './database.js';
import { translateDatabaseError } from './databaseErrors.js';

type PgliteRunner = Pick<PGlite | Transaction, 'query' | 'exec'>;

/**
 * Embedded PostgreSQL (PGlite, WASM) for the one-machine demo and tests: the same SQL as production,
 * one connection, in memory or in `dataDir`. Only one process may open a given `dataDir`.
 */
export async function createPgliteDatabase(options: { dataDir: string | undefined }, log: Logger): Promise<Database> {
  const started = Date.now();
  const pglite = options.dataDir === undefined ? new PGlite() : new PGlite(options.dataDir);
  try {
    await pglite.waitReady;
  } catch (err) {
    throw translateDatabaseError(err);
  }
  log.info(
    { storage: options.dataDir === undefined ? 'memory' : options.dataDir, startMs: Date.now() - started },
    'database: embedded PGlite (one replica only; set DATABASE_URL for PostgreSQL)',
  );

  const wrap = (runner: PgliteRunner): Queryable => ({
    async query<T extends object>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
      try {
        const result = await runner.query<T>(sql, params as unknown[] | undefined);
        return { rows: result.rows, rowCount: result.affectedRows || result.rows.length };
      } catch (err) {
        throw translateDatabaseError(err);
      }
    },
    async exec(script: string): Promise<void> {
      try {
        await runner.exec(script);
      } catch (err) {
        throw translateDatabaseError(err);
      }
    },
  });

  const root = wrap(pglite);
  return {
    kind: 'pglite',
    query: root.query,
    exec: root.exec,
    async transaction(fn) {
      try {
        // PGlite serialises everything on its single connection, so other callers wait for the commit.
        return await pglite.transaction((tx) => fn(wrap(tx)));
      } catch (err) {
        throw translateDatabaseError(err);
      }
    },
    async ping() {
      await root.query('SELECT 1');
    },
    async close() {
      if (!pglite.closed) await pglite.close();
    },
  };
}
