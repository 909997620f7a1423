import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KeycloakAdmin, type AdminCredentials } from './keycloakAdmin.js';

/**
 * Real Keycloak for the end-to-end suite, from the first source that works:
 *   1. KEYCLOAK_TEST_URL — an already running server (its admin credentials in
 *      KEYCLOAK_TEST_ADMIN_USERNAME / KEYCLOAK_TEST_ADMIN_PASSWORD, default admin/admin);
 *   2. a container through testcontainers, when a Docker engine answers;
 *   3. Keycloak's server distribution from Maven Central, run on the machine's Java.
 * Anything else fails with a message naming what is missing: the suite never skips.
 */
export const REALM = 'board';
export const CLIENT_ID = 'board-bff';
export const REALM_FILE = fileURLToPath(new URL('../../keycloak/board-realm.json', import.meta.url));
/** Served on Maven Central, runs on Java 17 (checked), newest 26.x there. Override with KEYCLOAK_VERSION. */
export const DEFAULT_KEYCLOAK_VERSION = '26.7.3';

/** What the realm must know about this test run; fed to the realm's `${ENV:default}` placeholders. */
export interface RealmSettings {
  /** Public base URLs of the app replicas (each gets a redirect URI). */
  appUrls: [string, string];
  frontendUrl: string;
  /** The replica Keycloak POSTs logout tokens to, as reachable from this machine. */
  backchannelLogoutUrl: string;
  /** The client's admin URL (Keycloak POSTs `k_logout` / `k_push_not_before` under it), as reachable from this machine. */
  adminUrl: string;
  clientSecret: string;
  accessTokenLifespanSeconds: number;
}

export interface KeycloakServer {
  /** Base URL as the browser and the app use it (no /realms suffix). */
  url: string;
  issuer: string;
  version: string;
  source: string;
  admin: AdminCredentials;
  stop(): Promise<void>;
}

/** The values of the realm file's placeholders; `backchannelHost` rewrites the host for a container. */
export function realmVariables(settings: RealmSettings, backchannelHost?: string): Record<string, string> {
  const backchannel = new URL(settings.backchannelLogoutUrl);
  const admin = new URL(settings.adminUrl);
  if (backchannelHost) backchannel.hostname = admin.hostname = backchannelHost;
  return {
    BOARD_BFF_URL: settings.appUrls[0],
    BOARD_BFF_URL_2: settings.appUrls[1],
    BOARD_FRONTEND_URL: settings.frontendUrl,
    BOARD_BFF_BACKCHANNEL_LOGOUT_URL: backchannel.href,
    BOARD_BFF_ADMIN_URL: admin.href.replace(/\/$/, ''),
    BOARD_BFF_CLIENT_SECRET: settings.clientSecret,
    BOARD_ACCESS_TOKEN_LIFESPAN: String(settings.accessTokenLifespanSeconds),
  };
}

/** Keycloak's own `${NAME:default}` expansion, for importing the file through the admin API. */
export function expandPlaceholders(text: string, vars: Record<string, string | undefined>): string {
  return text.replace(/\$\{([A-Za-z0-9_.]+)(?::([^}]*))?\}/g, (whole, name: string, fallback?: string) => {
    const value = vars[name] ?? fallback;
    if (value === undefined) throw new Error(`realm placeholder ${whole} has no value and no default`);
    return value;
  });
}


export async function startKeycloak(settings: RealmSettings): Promise<KeycloakServer> {
  const external = process.env.KEYCLOAK_TEST_URL?.trim();
  if (external) return useExistingKeycloak(external.replace(/\/+$/, ''), settings);

  const reasons: string[] = [];
  if (process.env.KEYCLOAK_TEST_DOCKER !== 'false') {
    const { dockerAvailable, startKeycloakContainer } = await import('./keycloakContainer.js');
    const docker = await dockerAvailable();
    if (docker === true) return startKeycloakContainer(settings);
    reasons.push(`no Docker engine (${docker})`);
  } else {
    reasons.push('Docker disabled by KEYCLOAK_TEST_DOCKER=false');
  }
  const { startKeycloakDist } = await import('./keycloakDist.js');
  try {
    return await startKeycloakDist(settings);
  } catch (error) {
    throw new Error(
      `Real Keycloak is required by the end-to-end suite and none could be had.\n` +
        `  - KEYCLOAK_TEST_URL is not set\n  - ${reasons.join('\n  - ')}\n` +
        `  - Maven Central distribution: ${(error as Error).message}`,
    );
  }
}

/** Polls until the realm's discovery document answers; `alive` reports early death of a process. */
export async function waitForRealm(
  url: string,
  timeoutMs: number,
  alive: () => string | undefined = () => undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const discovery = `${url}/realms/${REALM}/.well-known/openid-configuration`;
  for (;;) {
    const dead = alive();
    if (dead) throw new Error(dead);
    try {
      const response = await fetch(discovery, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${discovery} did not answer within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/**
 * An existing server cannot take placeholders at start, so the realm is created from the file through
 * the admin API when missing, and otherwise the client is re-pointed at this run's URLs.
 */
async function useExistingKeycloak(url: string, settings: RealmSettings): Promise<KeycloakServer> {
  const creds: AdminCredentials = {
    url,
    username: process.env.KEYCLOAK_TEST_ADMIN_USERNAME ?? 'admin',
    password: process.env.KEYCLOAK_TEST_ADMIN_PASSWORD ?? 'admin',
  };
  const admin = new KeycloakAdmin(creds, REALM);
  const vars = realmVariables(settings, process.env.KEYCLOAK_TEST_BACKCHANNEL_HOST);
  const realm = JSON.parse(expandPlaceholders(readFileSync(REALM_FILE, 'utf8'), vars)) as {
    accessTokenLifespan: string | number;
    clients: Array<Record<string, unknown> & { attributes: Record<string, string> }>;
  };
  const exists = await admin.request('GET', `/realms/${REALM}`).then(
    () => true,
    (error: Error) => (/→ 404/.test(error.message) ? false : Promise.reject(error)),
  );
  if (!exists) {
    await admin.request('POST', '/realms', realm);
  } else {
    const wanted = realm.clients[0]!;
    const client = await admin.findClient(CLIENT_ID);
    await admin.updateClient({
      ...client,
      secret: wanted.secret,
      redirectUris: wanted.redirectUris,
      adminUrl: wanted.adminUrl,
      webOrigins: wanted.webOrigins,
      attributes: { ...(client.attributes as Record<string, string>), ...wanted.attributes },
    });
    await admin.request('PUT', `/realms/${REALM}`, { accessTokenLifespan: Number(realm.accessTokenLifespan) });
  }
  await waitForRealm(url, 10_000);
  return {
    url,
    issuer: `${url}/realms/${REALM}`,
    version: await admin.serverVersion(),
    source: `existing server at KEYCLOAK_TEST_URL (realm ${exists ? 'updated' : 'imported'} through the admin API)`,
    admin: creds,
    stop: async () => undefined,
  };
}
