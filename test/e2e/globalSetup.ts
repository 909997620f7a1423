import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { TestProject } from 'vitest/node';
import { assertChromiumInstalled, CHROMIUM_PATH } from '../support/browser.js';
import { CLIENT_ID, startKeycloak, type KeycloakServer } from '../support/keycloak.js';
import { freePort } from '../support/ports.js';
import { redisUrlForTests } from '../support/sharedRedis.js';
import { createPostgresDatabase } from '../support/postgresDatabase.js';
import type { E2eEnv } from './support/env.js';

/**
 * Once per end-to-end run: real Keycloak (slow to start, so only once), a fresh PostgreSQL database,
 * a unique Redis key prefix, and the ports of the two app replicas and of the test page. The ports are
 * chosen before Keycloak imports the realm, because the realm's redirect URIs, post-logout URI and
 * back-channel URL are built from them through the realm file's placeholders.
 */
const ACCESS_TOKEN_LIFESPAN_SECONDS = 10;
const LIVENESS_INTERVAL_SECONDS = 5;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Cheap checks first: fail in seconds, not after Keycloak's minute of start-up.
  assertChromiumInstalled();
  const redisUrl = await redisUrlForTests();
  const redisPrefix = `e2e:${randomBytes(4).toString('hex')}:`;
  await pingRedis(redisUrl);
  const database = await createPostgresDatabase();
  const databaseUrl = database.url;

  const [portA, portB, frontendPort] = [await freePort(), await freePort(), await freePort()];
  const replicaUrls: [string, string] = [`http://127.0.0.1:${portA}`, `http://127.0.0.1:${portB}`];
  const frontendUrl = `http://127.0.0.1:${frontendPort}`;
  const clientSecret = randomBytes(24).toString('base64url');

  let keycloak: KeycloakServer;
  try {
    keycloak = await startKeycloak({
      appUrls: replicaUrls,
      frontendUrl,
      // Keycloak posts to A while the browser's stream is on B: the revocation must cross replicas.
      backchannelLogoutUrl: `${replicaUrls[0]}/auth/backchannel-logout`,
      // Keycloak's admin-URL actions (realm "Sign out all", "Revocation → Push") go to A as well.
      adminUrl: `${replicaUrls[0]}/auth/keycloak`,
      clientSecret,
      accessTokenLifespanSeconds: ACCESS_TOKEN_LIFESPAN_SECONDS,
    });
  } catch (error) {
    await database.drop();
    throw error;
  }
  console.log(
    `\n[e2e] Keycloak ${keycloak.version} — ${keycloak.source}\n` +
      `[e2e] issuer ${keycloak.issuer}; replicas ${replicaUrls.join(', ')}; page ${frontendUrl}\n` +
      `[e2e] Chromium ${CHROMIUM_PATH}; Redis ${redisUrl} prefix ${redisPrefix}; database ${new URL(databaseUrl).pathname.slice(1)}\n`,
  );

  const env: E2eEnv = {
    keycloak: { url: keycloak.url, issuer: keycloak.issuer, version: keycloak.version, source: keycloak.source, admin: keycloak.admin },
    clientId: CLIENT_ID,
    clientSecret,
    replicaUrls,
    frontendUrl,
    sessionSecret: randomBytes(32).toString('base64url'),
    redisUrl,
    redisPrefix,
    databaseUrl,
    accessTokenLifespanSeconds: ACCESS_TOKEN_LIFESPAN_SECONDS,
    livenessIntervalSeconds: LIVENESS_INTERVAL_SECONDS,
    logDir: mkdtempSync(join(tmpdir(), 'board-e2e-logs-')),
  };
  project.provide('e2e', env);

  return async () => {
    await keycloak.stop();
    await database.drop().catch((error: Error) => console.warn(`[e2e] ${error.message}`));
    await deleteRedisKeys(redisUrl, redisPrefix).catch((error: Error) => console.warn(`[e2e] ${error.message}`));
    console.log(`[e2e] replica logs kept in ${env.logDir}`);
  };
}

async function pingRedis(url: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 3000 });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(`Redis at ${url} does not answer (${(error as Error).message}); the e2e suite needs it (set REDIS_URL)`);
  } finally {
    redis.disconnect();
  }
}

async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
