import { afterAll, beforeAll } from 'vitest';
import { createDatabase, type Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';
import { databaseSettings } from '../support/databaseSettings.js';
import { boardRepositoryContract } from './boardRepositoryContract.js';
import { silentLogger } from './support/boardTestKit.js';

let testDb: TestDatabase;
let db: Database;

beforeAll(async () => {
  testDb = await createTestDatabase();
  db = await createDatabase(databaseSettings({ url: testDb.url, poolMax: 8 }), silentLogger());
  await migrate(db, silentLogger());
}, 60_000);

afterAll(async () => {
  await db?.close();
  await testDb?.drop();
});

boardRepositoryContract('PostgreSQL', () => db);
