import { createHash } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { Database } from './database.js';
import { migrations as allMigrations, type Migration } from './migrations/index.js';

/**
 * The advisory-lock key every replica takes before migrating: an arbitrary constant, the same in
 * every build ("board-bff" read as ASCII hex, truncated), so only one process migrates at a time.
 */
const migrationLockKey = '0x626f6172642d62';

/** Waiting behind another replica's migration is normal; the pool's short statement timeout is not meant for it. */
const migrationStatementTimeout = '5min';

export interface MigrationOutcome {
  /** Versions this call applied (empty when the schema was already current). */
  applied: number[];
  /** Highest version recorded in the database afterwards. */
  current: number;
}

function checksumOf(migration: Migration): string {
  return createHash('sha256').update(migration.sql).digest('hex');
}

/**
 * Brings the schema up to date, once, however many replicas call this at the same moment: all pending
 * migrations run in one transaction holding `pg_advisory_xact_lock`, so a second caller waits, then
 * sees them recorded in `schema_migrations` and applies nothing. A failure rolls everything back.
 */
export async function migrate(db: Database, log: Logger, migrations: readonly Migration[] = allMigrations): Promise<MigrationOutcome> {
  assertOrdered(migrations);
  return db.transaction(async (tx) => {
    await tx.query(`SET LOCAL statement_timeout = '${migrationStatementTimeout}'`);
    await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [BigInt(migrationLockKey).toString()]);
    // Created under the lock: two concurrent CREATE TABLE IF NOT EXISTS can still collide.
    await tx.query(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        checksum   text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const { rows } = await tx.query<{ version: number; checksum: string }>('SELECT version, checksum FROM schema_migrations');
    const recorded = new Map(rows.map((row) => [Number(row.version), row.checksum]));

    for (const migration of migrations) {
      const checksum = recorded.get(migration.version);
      if (checksum !== undefined && checksum !== checksumOf(migration)) {
        throw new Error(
          `migration ${migration.version} (${migration.name}) differs from the one applied to this database; ` +
            'released migrations must not be edited, add a new version instead',
        );
      }
    }
    const known = migrations.at(-1)?.version ?? 0;
    const newest = Math.max(0, ...recorded.keys());
    if (newest > known) {
      // A replica of an older build starting during a rolling deploy: the newer schema is expected to stay compatible.
      log.warn({ databaseVersion: newest, buildVersion: known }, 'database schema is newer than this build');
    }

    const applied: number[] = [];
    for (const migration of migrations) {
      if (recorded.has(migration.version)) continue;
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        checksumOf(migration),
      ]);
      log.info({ version: migration.version, name: migration.name }, 'migration applied');
      applied.push(migration.version);
    }
    const current = Math.max(newest, ...applied);
    log.info({ applied, current }, applied.length > 0 ? 'database schema migrated' : 'database schema is current');
    return { applied, current };
  });
}

function assertOrdered(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    const previous = index === 0 ? 0 : migrations[index - 1]!.version;
    if (!Number.isInteger(migration.version) || migration.version <= previous) {
      throw new Error(`migration versions must be strictly increasing integers from 1; ${migration.version} follows ${previous}`);
    }
  });
}
