import { databaseSettings } from '../support/databaseSettings.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { boardRepositoryContract } from './boardRepositoryContract.js';
import { silentLogger } from './support/boardTestKit.js';

// PGlite takes seconds to start (WASM): one instance for the whole file.
let db: Database;

beforeAll(async () => {
  db = await createDatabase(databaseSettings({ url: undefined, poolMax: 1 }), silentLogger());
}, 60_000);

afterAll(async () => {
  await db?.close();
});

describe('embedded PGlite', () => {
  it('when DATABASE_URL is unset, then the PGlite driver is chosen', () => {
    expect(db.kind).toBe('pglite');
  });

  it('when migrations run twice, then the second run applies nothing', async () => {
    const first = await migrate(db, silentLogger());
    const second = await migrate(db, silentLogger());

    expect(first.applied.length).toBeGreaterThan(0);
    expect(second).toEqual({ applied: [], current: first.current });
  });
});

boardRepositoryContract('PGlite', () => db);

// Last, because it closes the shared instance.
describe('embedded PGlite after close', () => {
  it('when the instance is closed, then queries fail as 503 unavailable', async () => {
    await db.close();

    await expect(db.query('SELECT 1')).rejects.toMatchObject({ status: 503, code: 'temporarily_unavailable' });
  });
});
