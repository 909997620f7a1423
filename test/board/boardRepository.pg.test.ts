import { afterAll, beforeAll } from 'vitest';
import { connectPostgresDatabase, type ConnectedDatabase } from '../support/postgresDatabase.js';
import { boardRepositoryContract } from './boardRepositoryContract.js';

let database: ConnectedDatabase;

beforeAll(async () => {
  database = await connectPostgresDatabase({ poolMax: 8 });
}, 60_000);

afterAll(() => database?.close());

boardRepositoryContract('PostgreSQL', () => database.db);
