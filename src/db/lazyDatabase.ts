import { unavailable } from '../errors.js';
import { describeError, type Logger } from '../logger.js';
import type { Database } from './database.js';

/**
 * `standby`: not started (nothing has used it yet); `starting`; `up`; `failed`: the last start
 * failed, and the first use after `retryAfterMs` starts it again.
 */
export type LazyDatabaseState = 'standby' | 'starting' | 'up' | 'failed';

export interface LazyDatabase extends Database {
  state(): LazyDatabaseState;
  /** Starts the database now if it is in standby (or failed long enough ago), without waiting for it. */
  warm(): void;
  /** Resolves when the database is up the first time (never starts it; never rejects). */
  readonly firstUp: Promise<void>;
}

export interface LazyDatabaseOptions {
  kind: Database['kind'];
  /** Longest a query waits for the start; then it rejects 503 (the start goes on). */
  waitMs: number;
  /** After a failed start, uses are refused 503 for this long before one starts it again. */
  retryAfterMs: number;
  log: Logger;
}

/**
 * A database opened on first use (the embedded PGlite: README "Performance", the demo's start):
 * `open` runs when the first query, transaction or `warm()` comes, and every caller waits for it
 * (at most `waitMs`). Every failure to start reaches callers as the 503 `unavailable('database')`
 * HttpError, never a 500; a failed start is retried by the first use after `retryAfterMs`.
 * `ping()` never starts it: in standby it rejects (readiness reads `state()` first).
 */
export function createLazyDatabase(open: () => Promise<Database>, options: LazyDatabaseOptions): LazyDatabase {
  const { log } = options;
  let state: LazyDatabaseState = 'standby';
  let opened: Promise<Database> | undefined;
  let db: Database | undefined;
  let failedAt = 0;
  let closed = false;
  let markUp: () => void;
  const firstUp = new Promise<void>((resolve) => (markUp = resolve));

  const start = (): Promise<Database> => {
    state = 'starting';
    const started = Date.now();
    log.info('database: starting the embedded database (first use)');
    opened = open().then(
      async (ready) => {
        if (closed) {
          await ready.close();
          throw unavailable('database');
        }
        db = ready;
        state = 'up';
        log.info({ startMs: Date.now() - started }, 'database: embedded database started');
        markUp();
        return ready;
      },
      (err: unknown) => {
        state = 'failed';
        failedAt = Date.now();
        opened = undefined;
        log.error({ err: describeError(err), retryAfterMs: options.retryAfterMs }, 'database: the embedded database did not start; the board answers 503 until a later start succeeds');
        throw unavailable('database', err);
      },
    );
    // Callers that gave up waiting (or a warm-up nobody awaits) must not leave an unhandled rejection.
    opened.catch(() => undefined);
    return opened;
  };

  const startIfIdle = (): Promise<Database> | undefined => {
    if (closed) return undefined;
    if (opened) return opened;
    if (state === 'failed' && Date.now() - failedAt < options.retryAfterMs) return undefined;
    return start();
  };

  const use = async (): Promise<Database> => {
    if (db) return db;
    const pending = startIfIdle();
    if (!pending) throw unavailable('database');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(unavailable('database', undefined, 'the board database is still starting; try again shortly')), options.waitMs);
    });
    try {
      return await Promise.race([pending, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    kind: options.kind,
    state: () => state,
    warm() {
      void startIfIdle();
    },
    firstUp,
    query: async (sql, params) => (await use()).query(sql, params),
    exec: async (script) => (await use()).exec(script),
    transaction: async (fn) => (await use()).transaction(fn),
    async ping() {
      if (!db) throw unavailable('database');
      await db.ping();
    },
    async close() {
      closed = true;
      // A start still under way closes what it opens when it ends; shutdown does not wait for it.
      if (db) await db.close();
    },
  };
}
