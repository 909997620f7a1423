import type { TestProject } from 'vitest/node';
import { resolvePostgresServer } from './postgresServer.js';

/**
 * Optional vitest globalSetup: chooses the PostgreSQL server once for the whole run (and starts at
 * most one container), then hands its admin URL to every test file through `inject`.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await resolvePostgresServer();
  project.provide('testDatabaseUrl', server.adminUrl);
  return () => server.stop();
}
