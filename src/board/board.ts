import { createDatabase, type Database, type DatabaseSettings } from '../db/database.js';
import { createLazyDatabase, type LazyDatabase } from '../db/lazyDatabase.js';
import { migrate, type MigrationOutcome } from '../db/migrate.js';
import { startMigrations, type SchemaState } from '../db/startMigrations.js';
import type { EventBus } from '../events/eventBus.js';
import type { Logger } from '../logger.js';
import { createBoardRepository } from './boardRepository.js';
import { createBoardService, type BoardService } from './boardService.js';
import { createUserDirectory, type UserDirectory } from './userDirectory.js';

/** Everything the board needs at run time, built from configuration in one call. */
export interface Board {
  db: Database;
  schema: SchemaState;
  users: UserDirectory;
  service: BoardService;
  /**
   * For /readyz: fails while migrations are pending or the database does not answer. The embedded
   * database (started on first use) resolves `'standby'` before its start and `'starting'` during
   * it: the board can serve then (its requests wait for the start), so readiness stays up.
   */
  ready(): Promise<void | 'standby' | 'starting'>;
  /** Starts the embedded database now if it waits for its first use (without waiting for it); nothing for PostgreSQL. */
  warm(): void;
  /** Stops migration retries and closes the pool (or PGlite). */
  close(): Promise<void>;
}

/** How long a board request waits for the embedded database's start before a 503 (it goes on starting). */
const EMBEDDED_START_WAIT_MS = 20_000;
/** After a failed start of the embedded database, board requests get 503 this long before one tries again. */
const EMBEDDED_RETRY_AFTER_MS = 5_000;

/**
 * Opens the database and starts migrations in the background (retried while PostgreSQL is down, so
 * the process and sign-in come up regardless); the board answers 503 until the schema is current.
 * Without `DATABASE_URL` the embedded PGlite starts on first use instead (a board request, a
 * sign-in's user provisioning), and is migrated before its first query runs: it costs the process
 * ~2–3 s of CPU and ~150–200 MiB (README "Performance"), which a process that serves no board
 * request never pays. `openEmbedded` replaces how PGlite is opened (tests).
 */
export async function createBoard(deps: {
  database: DatabaseSettings;
  moderatorRole: string;
  events: EventBus;
  log: Logger;
  openEmbedded?: () => Promise<Database>;
}): Promise<Board> {
  const log = deps.log.child({ component: 'board' });
  const lazy = deps.database.url === undefined ? createEmbeddedDatabase(deps.openEmbedded ?? (() => createDatabase(deps.database, log)), log) : undefined;
  const embedded = lazy?.db;
  const db = embedded ?? (await createDatabase(deps.database, log));
  const schema = lazy?.schema ?? startMigrations(db, log);
  const users = createUserDirectory({ db, log, ...(embedded ? { isStarted: () => embedded.state() === 'up' } : {}) });
  const service = createBoardService({
    repository: createBoardRepository(db),
    users,
    events: deps.events,
    log,
    moderatorRole: deps.moderatorRole,
    // The embedded database's queries wait for its start and migrations: no 503 gate in front of them.
    ...(embedded ? {} : { isSchemaReady: schema.isReady }),
  });
  return {
    db,
    schema,
    users,
    service,
    async ready() {
      const state = embedded?.state();
      if (state === 'standby' || state === 'starting') return state;
      if (!schema.isReady()) throw new Error(`database schema ${schema.status()}`);
      await db.ping();
    },
    warm: () => embedded?.warm(),
    async close() {
      schema.stop();
      await db.close();
    },
  };
}

/** The embedded database, migrated as part of its start, and its schema: current once it is up. */
function createEmbeddedDatabase(open: () => Promise<Database>, log: Logger): { db: LazyDatabase; schema: SchemaState } {
  // Said at start, as every embedded default is (the PGlite driver's own line comes only at first use).
  log.warn('database: embedded PGlite, started at the first page load, sign-in or board request (one replica only; set DATABASE_URL for PostgreSQL)');
  let outcome: MigrationOutcome | undefined;
  const db = createLazyDatabase(
    async () => {
      const opened = await open();
      try {
        outcome = await migrate(opened, log);
      } catch (err) {
        await opened.close();
        throw err;
      }
      return opened;
    },
    { kind: 'pglite', waitMs: EMBEDDED_START_WAIT_MS, retryAfterMs: EMBEDDED_RETRY_AFTER_MS, log },
  );
  const schema: SchemaState = {
    isReady: () => db.state() === 'up',
    status: () => (db.state() === 'up' ? 'ready' : 'migrating'),
    ready: db.firstUp.then(() => outcome!),
    stop: () => undefined,
  };
  return { db, schema };
}
