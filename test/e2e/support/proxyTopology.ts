import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIENT_ID, expandPlaceholders, REALM_FILE } from '../../support/keycloak.js';
import { KeycloakAdmin } from '../../support/keycloakAdmin.js';
import { startNginx, type NginxProcess } from '../../support/nginx.js';
import { freePort } from '../../support/ports.js';
import { startServerProcess, type ServerProcess } from '../../support/serverProcess.js';
import { UserAgent } from '../../support/userAgent.js';
import type { E2eEnv } from './env.js';

/**
 * docker-compose.yml's topology as processes on this machine: nginx (the very config compose mounts)
 * publishing the app and Keycloak, two replicas of `src/server.ts` behind it, the suite's Keycloak,
 * Redis and PostgreSQL.
 *
 * The issuer split: browsers and tokens use Keycloak's public URL (nginx), the replicas fetch the
 * provider's metadata from Keycloak directly (OIDC_DISCOVERY_URL), and Keycloak posts logout tokens to
 * the app's public URL (nginx), so any replica may receive them. The suite's Keycloak is shared with
 * the other files and started without hostname options, so this file imports the realm file a second
 * time as realm `board-proxy` whose frontend URL (a realm attribute) is the public one; compose gets
 * the same public issuer from KC_HOSTNAME instead.
 */
export const PROXY_REALM = 'board-proxy';

export interface ProxyTopology {
  nginx: NginxProcess;
  replicas: { A: ServerProcess; B: ServerProcess };
  /** The public issuer (through nginx) the replicas expect in tokens. */
  issuer: string;
  /** Where the replicas fetch the metadata: Keycloak's own listener. */
  discoveryUrl: string;
  admin: KeycloakAdmin;
  restart(name: 'A' | 'B'): Promise<ServerProcess>;
  stop(): Promise<void>;
}

export const REPLICA_SETTINGS = {
  SSE_HEARTBEAT_SECONDS: '5',
  SSE_RETRY_MS: '1000',
  SHUTDOWN_GRACE_SECONDS: '20',
  TRUST_PROXY: 'loopback',
  // Every sign-in of the topology test comes from loopback through nginx: the limits have their own tests.
  RATE_LIMIT_LOGIN: '0',
  RATE_LIMIT_CALLBACK: '0',
  LOG_LEVEL: 'info',
} as const;

export async function startProxyTopology(env: E2eEnv): Promise<ProxyTopology> {
  const [appPort, keycloakPort, portA, portB] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const publicUrl = `http://127.0.0.1:${appPort}`;
  const publicKeycloak = `http://127.0.0.1:${keycloakPort}`;
  const keycloakListener = new URL(env.keycloak.url);
  const admin = new KeycloakAdmin(env.keycloak.admin, PROXY_REALM);
  await importProxyRealm(admin, { publicUrl, publicKeycloak, clientSecret: env.clientSecret });

  const cleanups: Array<() => Promise<unknown>> = [() => admin.request('DELETE', `/realms/${PROXY_REALM}`)];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: Error) => console.warn(`[topology] ${error.message}`));
  };
  try {
    const nginx = await startNginx({
      appPort,
      keycloakPort,
      replicas: [`127.0.0.1:${portA}`, `127.0.0.1:${portB}`],
      keycloak: `127.0.0.1:${keycloakListener.port}`,
    });
    cleanups.push(() => nginx.stop());
    const issuer = `${publicKeycloak}/realms/${PROXY_REALM}`;
    const discoveryUrl = `http://127.0.0.1:${keycloakListener.port}/realms/${PROXY_REALM}`;
    const settings = {
      BASE_URL: publicUrl,
      FRONTEND_URL: publicUrl,
      OIDC_ISSUER: issuer,
      OIDC_DISCOVERY_URL: discoveryUrl,
      CLIENT_ID,
      CLIENT_SECRET: env.clientSecret,
      SESSION_SECRET: env.sessionSecret,
      REDIS_URL: env.redisUrl,
      REDIS_PREFIX: `${env.redisPrefix}topology:`,
      DATABASE_URL: env.databaseUrl,
      ...REPLICA_SETTINGS,
    };
    const start = (name: 'A' | 'B') =>
      startServerProcess({
        entry: 'src',
        url: `http://127.0.0.1:${name === 'A' ? portA : portB}`,
        env: settings,
        logFile: join(env.logDir, `topology-replica-${name}.log`),
      });
    const replicas = { A: await start('A'), B: await start('B') };
    cleanups.push(() => Promise.all([replicas.A.stop(), replicas.B.stop()]));
    return {
      nginx,
      replicas,
      issuer,
      discoveryUrl,
      admin,
      async restart(name) {
        replicas[name] = await start(name);
        return replicas[name];
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The repository's realm file, imported through the admin API under another name and public URL. */
async function importProxyRealm(admin: KeycloakAdmin, urls: { publicUrl: string; publicKeycloak: string; clientSecret: string }): Promise<void> {
  const text = expandPlaceholders(readFileSync(REALM_FILE, 'utf8'), {
    BOARD_BFF_URL: urls.publicUrl,
    BOARD_BFF_URL_2: urls.publicUrl.replace('127.0.0.1', 'localhost'),
    BOARD_FRONTEND_URL: urls.publicUrl,
    BOARD_BFF_BACKCHANNEL_LOGOUT_URL: `${urls.publicUrl}/auth/backchannel-logout`,
    BOARD_BFF_CLIENT_SECRET: urls.clientSecret,
    BOARD_ACCESS_TOKEN_LIFESPAN: '300',
  });
  const realm = JSON.parse(text) as Record<string, unknown> & { attributes?: Record<string, string> };
  realm.realm = PROXY_REALM;
  realm.attributes = { ...realm.attributes, frontendUrl: urls.publicKeycloak };
  await admin.request('DELETE', `/realms/${PROXY_REALM}`).catch(() => undefined); // left over from a killed run
  await admin.request('POST', '/realms', realm);
}

/**
 * A sign-in without a browser, for the many sessions of the load test: the app's login redirect,
 * Keycloak's login form (its action URL read from the page, the password posted as a person would),
 * the callback, the app's page it redirects to. Returns the session cookie as a `Cookie` header value.
 */
export async function signInOverHttp(publicUrl: string, username: string, password: string): Promise<string> {
  const agent = new UserAgent();
  const loginPage = await agent.navigate(`${publicUrl}/auth/login?returnTo=/`);
  const form = /<form[^>]*id="kc-form-login"[^>]*>/.exec(loginPage.body)?.[0];
  const action = form && /action="([^"]+)"/.exec(form)?.[1];
  if (!action) throw new Error(`no Keycloak login form at ${loginPage.url}: ${loginPage.body.slice(0, 300)}`);
  const posted = await agent.fetch(action.replaceAll('&amp;', '&'), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password, credentialId: '' }),
  });
  const callback = posted.headers.get('location');
  if (posted.status !== 302 || !callback) throw new Error(`Keycloak's login form answered ${posted.status}: ${(await posted.text()).slice(0, 300)}`);
  const answer = await agent.fetch(callback);
  await answer.arrayBuffer();
  const landing = answer.headers.get('location');
  if (answer.status !== 302 || !landing || new URL(landing, callback).href !== `${publicUrl}/`) {
    throw new Error(`the callback answered ${answer.status}, redirecting to ${landing}`);
  }
  // The app's page (a replica serves it) answers page navigations, which ask for HTML as a browser's do.
  const page = await agent.fetch(`${publicUrl}/`, { headers: { accept: 'text/html' } });
  await page.arrayBuffer();
  if (page.status !== 200 || !page.headers.get('content-type')?.startsWith('text/html')) {
    throw new Error(`after sign-in the app's page answered ${page.status} ${page.headers.get('content-type')}`);
  }
  const cookie = agent.cookie(publicUrl, 'bff.sid');
  if (!cookie) throw new Error('no bff.sid cookie after signing in');
  return `bff.sid=${cookie}`;
}
