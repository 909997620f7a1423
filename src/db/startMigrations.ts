import { describeError, type Logger } from '../logger.js';
import type { Database } from './database.js';
import { isUnavailableError } from './databaseErrors.js';
import { migrate, type MigrationOutcome } from './migrate.js';
import type { Migration } from './migrations/index.js';

export interface SchemaState {
  /** True once the schema is current: until then the board answers 503 rather than query missing tables. */
  isReady(): boolean;
  /** 'failed' is a broken migration (a bug), not an outage: it is not retried. */
  status(): 'migrating' | 'ready' | 'failed';
  /** Resolves when migrated; rejects only on a non-retryable failure (already handled: safe to ignore). */
  readonly ready: Promise<MigrationOutcome>;
  /** Stops retrying (shutdown). */
  stop(): void;
}

export interface StartMigrationsOptions {
  initialDelayMs?: number;
  maxDelayMs?: number;
  migrations?: readonly Migration[];
}

/**
 * Runs `migrate` at start-up without making the process depend on the database: if PostgreSQL is
 * down, sign-in and logout keep working while this retries with capped backoff in the background.
 */
export function startMigrations(db: Database, log: Logger, options: StartMigrationsOptions = {}): SchemaState {
  const initialDelayMs = options.initialDelayMs ?? 1_000;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  let status: 'migrating' | 'ready' | 'failed' = 'migrating';
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const ready = new Promise<MigrationOutcome>((resolve, reject) => {
    const attempt = async (delayMs: number): Promise<void> => {
      if (stopped) return;
      try {
        const outcome = await migrate(db, log, options.migrations);
        status = 'ready';
        resolve(outcome);
      } catch (err) {
        if (stopped) return;
        if (!isUnavailableError(err)) {
          status = 'failed';
          log.error({ err: describeError(err) }, 'database migration failed; the board stays unavailable until this is fixed');
          reject(err);
          return;
        }
        log.warn({ retryInMs: delayMs, err: describeError(err) }, 'database unavailable for migrations; retrying');
        timer = setTimeout(() => void attempt(Math.min(delayMs * 2, maxDelayMs)), delayMs);
        timer.unref();
      }
    };
    void attempt(initialDelayMs);
  });
  // A failure is logged above; an unobserved rejection must not take the process down.
  ready.catch(() => undefined);

  return {
    isReady: () => status === 'ready',
    status: () => status,
    ready,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
