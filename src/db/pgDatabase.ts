import pg from 'pg';
import { describeError, type Logger } from '../logger.js';
import { type Database, type DatabaseSettings, type Queryable, type QueryResult } from './database.js';
import { isUnavailableError, translateDatabaseError } from './databaseErrors.js';

/** Time a session may sit idle inside BEGIN before the server ends it (a leaked transaction holds locks). */
const idleInTransactionMs = 30_000;

/** Where the pool points, for logs: never the password. */
function describeDatabaseUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
}

/** PostgreSQL through a `pg` pool, with timeouts so a dead or silent server gives fast errors. */
export function createPgDatabase(settings: DatabaseSettings & { url: string }, log: Logger): Database {
  const { connectTimeoutMs, statementTimeoutMs } = settings;
  const pool = new pg.Pool({
    connectionString: settings.url,
    max: settings.poolMax,
    connectionTimeoutMillis: connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    // The server cancels slow statements; the client stops waiting shortly after, for a server that
    // no longer answers at all (a network partition gives no RST).
    statement_timeout: statementTimeoutMs,
    query_timeout: statementTimeoutMs + 2_000,
    idle_in_transaction_session_timeout: idleInTransactionMs,
    keepAlive: true,
    application_name: 'board-bff',
  });
  // An idle pooled connection that dies (server restart, 57P01, network) emits 'error' on the pool;
  // without a listener Node would crash the process. The pool drops that client and opens a new one.
  pool.on('error', (err) => {
    log.warn({ err: describeError(err) }, 'idle database connection failed; the pool will replace it');
  });
  log.info(
    { database: describeDatabaseUrl(settings.url), poolMax: settings.poolMax, connectTimeoutMs, statementTimeoutMs },
    'database: PostgreSQL',
  );

  const run = async <T>(client: pg.Pool | pg.PoolClient, sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> => {
    try {
      const result = await client.query(sql, params as unknown[] | undefined);
      return { rows: result.rows as T[], rowCount: result.rowCount ?? result.rows.length };
    } catch (err) {
      throw translateDatabaseError(err);
    }
  };

  /** A multi-statement script goes over the simple protocol (no parameters); pg returns one result per statement. */
  const runScript = async (client: pg.Pool | pg.PoolClient, script: string): Promise<void> => {
    try {
      await client.query(script);
    } catch (err) {
      throw translateDatabaseError(err);
    }
  };

  return {
    kind: 'postgres',
    query: (sql, params) => run(pool, sql, params),
    exec: (script) => runScript(pool, script),
    async transaction(fn) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw translateDatabaseError(err);
      }
      // While checked out the pool no longer listens for this client's errors; a socket failure between
      // two statements of the transaction would otherwise be an unhandled 'error' event.
      let broken: Error | undefined;
      const onError = (err: Error) => {
        broken = err;
        log.warn({ err: describeError(err) }, 'database connection failed during a transaction');
      };
      client.on('error', onError);
      const tx: Queryable = {
        query: (sql, params) => run(client, sql, params),
        exec: (script) => runScript(client, script),
      };
      try {
        await run(client, 'BEGIN');
        const result = await fn(tx);
        await run(client, 'COMMIT');
        return result;
      } catch (err) {
        if (!broken && !isUnavailableError(err)) {
          await client.query('ROLLBACK').catch((rollbackErr: Error) => {
            broken = rollbackErr;
          });
        } else {
          broken ??= err instanceof Error ? err : new Error(String(err));
        }
        throw translateDatabaseError(err);
      } finally {
        client.off('error', onError);
        // Passing an error destroys the connection instead of returning a broken one to the pool.
        client.release(broken);
      }
    },
    async ping() {
      await run(pool, 'SELECT 1');
    },
    async close() {
      await pool.end();
    },
  };
}

