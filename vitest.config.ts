import { defineConfig } from 'vitest/config';

// Integration suite: real Redis, PostgreSQL and an in-process OpenID Provider. The Keycloak +
// browser suite has its own config (vitest.e2e.config.ts).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'client/test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    pool: 'forks',
    globalSetup: ['test/support/postgresGlobalSetup.ts', 'test/support/webGlobalSetup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
