import { databaseSettings } from '../support/databaseSettings.js';
/**
 * Child process for the concurrent-migration test: waits until a shared start time so that two
 * processes really race, migrates, and prints the outcome as one JSON line.
 * Usage: node --import tsx test/db/runMigrate.ts <databaseUrl> <startAtEpochMs>
 */
import { createDatabase } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { createLogger } from '../../src/logger.js';

const [url, startAt] = process.argv.slice(2);
if (!url || !startAt) throw new Error('usage: runMigrate.ts <databaseUrl> <startAtEpochMs>');
const log = createLogger({ level: 'silent' });
const db = await createDatabase(databaseSettings({ url, poolMax: 2 }), log);
await db.ping(); // connected before the start line, so the race is on the lock, not on connecting
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
try {
  const outcome = await migrate(db, log);
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
} finally {
  await db.close();
}
