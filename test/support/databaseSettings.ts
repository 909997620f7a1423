import type { DatabaseSettings } from '../../src/db/database.js';

/** Database settings as `loadConfig` would produce them, with the given fields changed. */
export function databaseSettings(overrides: Partial<DatabaseSettings>): DatabaseSettings {
  return { url: undefined, pgliteDir: undefined, poolMax: 2, connectTimeoutMs: 5_000, statementTimeoutMs: 10_000, ...overrides };
}
