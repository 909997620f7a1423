import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../../src/db/database.js';
import { migrate, type MigrationOutcome } from '../../src/db/migrate.js';
import { migrations } from '../../src/db/migrations/index.js';
import { startMigrations } from '../../src/db/startMigrations.js';
import { captureLogger, silentLogger } from '../board/support/boardTestKit.js';
import { startTcpProxy, viaPort } from './tcpProxy.js';
import { connectPostgresDatabase, type ConnectedDatabase } from '../support/postgresDatabase.js';
import { databaseSettings } from '../support/databaseSettings.js';

const run = promisify(execFile);
const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const latest = migrations.at(-1)!.version;

async function tables(db: Database): Promise<string[]> {
  const { rows } = await db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
  );
  return rows.map((row) => row.table_name);
}

async function recordedVersions(db: Database): Promise<number[]> {
  const { rows } = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
  return rows.map((row) => Number(row.version));
}

describe('migrate on PostgreSQL', () => {
  const opened: ConnectedDatabase[] = [];
  /** An empty database: these tests run migrate themselves. */
  const freshDatabase = async () => {
    const database = await connectPostgresDatabase({ poolMax: 4, migrated: false });
    opened.push(database);
    return database;
  };
  let db: Database;

  beforeAll(async () => {
    ({ db } = await freshDatabase());
  }, 60_000);

  afterAll(async () => {
    for (const database of opened) await database.close();
  });

  it('when run on an empty database, then it creates the board and audit tables and records every version', async () => {
    const outcome = await migrate(db, silentLogger());

    expect(outcome).toEqual({ applied: migrations.map((m) => m.version), current: latest });
    expect(await tables(db)).toEqual(['audit_log', 'comments', 'posts', 'schema_migrations', 'users']);
    expect(await recordedVersions(db)).toEqual(migrations.map((m) => m.version));
  });

  it('when run a second time, then it applies nothing and the schema is unchanged', async () => {
    const before = await tables(db);

    const outcome = await migrate(db, silentLogger());

    expect(outcome).toEqual({ applied: [], current: latest });
    expect(await tables(db)).toEqual(before);
    expect(await recordedVersions(db)).toEqual(migrations.map((m) => m.version));
  });

  it('when two node processes migrate one fresh database at the same moment, then both succeed and each version is applied once', async () => {
    const { url, db: fresh } = await freshDatabase();
    const startAt = String(Date.now() + 3_000);
    const child = () =>
      run(process.execPath, ['--import', 'tsx', 'test/db/runMigrate.ts', url, startAt], { cwd: projectRoot, timeout: 60_000 });

    const results = await Promise.all([child(), child()]);

    const outcomes = results.map((result) => JSON.parse(result.stdout.trim()) as MigrationOutcome);
    expect(outcomes.flatMap((outcome) => outcome.applied).sort()).toEqual(migrations.map((m) => m.version));
    expect(outcomes.every((outcome) => outcome.current === latest)).toBe(true);
    expect(await recordedVersions(fresh)).toEqual(migrations.map((m) => m.version));
  }, 90_000);

  it('when a pending migration fails, then the whole run rolls back and nothing of it is recorded', async () => {
    const broken = [
      ...migrations,
      { version: latest + 1, name: 'half done', sql: 'CREATE TABLE half_done (id int); SELECT * FROM no_such_table;' },
    ];

    await expect(migrate(db, silentLogger(), broken)).rejects.toMatchObject({ code: '42P01' });

    expect(await tables(db)).not.toContain('half_done');
    expect(await recordedVersions(db)).toEqual(migrations.map((m) => m.version));
  });

  it('when a migration already applied was edited, then migrate refuses to run', async () => {
    const edited = migrations.map((m, index) => (index === 0 ? { ...m, sql: `${m.sql}\n-- edited` } : m));

    await expect(migrate(db, silentLogger(), edited)).rejects.toThrow(/differs from the one applied/);
  });

  it('when versions are out of order, then migrate refuses before touching the database', async () => {
    const shuffled = [{ version: 2, name: 'b', sql: 'SELECT 1' }, { version: 1, name: 'a', sql: 'SELECT 1' }];

    await expect(migrate(db, silentLogger(), shuffled)).rejects.toThrow(/strictly increasing/);
  });

  it('when the database is down at start-up, then startMigrations keeps the board not-ready and migrates once it is back', async () => {
    const { url } = await freshDatabase();
    const target = new URL(url);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    proxy.cut();
    const { log, lines } = captureLogger();
    const viaProxy = await createDatabase(
      databaseSettings({ url: viaPort(url, proxy.port), poolMax: 2, connectTimeoutMs: 1_000 }),
      log,
    );
    try {
      const schema = startMigrations(viaProxy, log, { initialDelayMs: 100, maxDelayMs: 200 });
      await expect.poll(() => lines().filter((line) => line.msg === 'database unavailable for migrations; retrying').length).toBeGreaterThan(1);
      expect(schema.isReady()).toBe(false);

      proxy.restore();
      const outcome = await schema.ready;

      expect(schema.status()).toBe('ready');
      expect(outcome.applied).toEqual(migrations.map((m) => m.version));
      schema.stop();
    } finally {
      await viaProxy.close();
      await proxy.close();
    }
  }, 30_000);

  it('when a migration is broken (not an outage), then startMigrations stops retrying and reports failed', async () => {
    const { log } = captureLogger();
    const schema = startMigrations(db, log, { migrations: [{ version: 1, name: 'bad', sql: 'SELEC 1' }] });

    await expect(schema.ready).rejects.toBeDefined();
    expect(schema.status()).toBe('failed');
    expect(schema.isReady()).toBe(false);
  });
});
