import { defineConfig } from 'vitest/config';

/**
 * The end-to-end suite: real Keycloak, real Chromium, two app replicas on Redis and PostgreSQL.
 * Files run one after another: they share one Keycloak (started once in globalSetup, ~20–60 s) and the
 * replica ports that Keycloak's realm was imported with.
 */
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.test.ts'],
    globalSetup: ['test/e2e/globalSetup.ts', 'test/support/webGlobalSetup.ts'],
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // A scenario that measures "within the liveness interval" must not be retried into passing.
    retry: 0,
    reporters: ['verbose'],
  },
});
