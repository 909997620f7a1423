import { createDatabase, type Database, type DatabaseSettings } from '../db/database.js';
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
  /** For /readyz: fails while migrations are pending or the database does not answer. */
  ready(): Promise<void>;
  /** Stops migration retries and closes the pool (or PGlite). */
  close(): Promise<void>;
}

/**
 * Opens the database and starts migrations in the background (retried while PostgreSQL is down, so
 * the process and sign-in come up regardless); the board answers 503 until the schema is current.
 */
export async function createBoard(deps: {
  database: DatabaseSettings;
  moderatorRole: string;
  events: EventBus;
  log: Logger;
}): Promise<Board> {
  const log = deps.log.child({ component: 'board' });
  const db = await createDatabase(deps.database, log);
  const schema = startMigrations(db, log);
  const users = createUserDirectory({ db, log });
  const service = createBoardService({
    repository: createBoardRepository(db),
    users,
    events: deps.events,
    log,
    moderatorRole: deps.moderatorRole,
    isSchemaReady: schema.isReady,
  });
  return {
    db,
    schema,
    users,
    service,
    async ready() {
      if (!schema.isReady()) throw new Error(`database schema ${schema.status()}`);
      await db.ping();
    },
    async close() {
      schema.stop();
      await db.close();
    },
  };
}
