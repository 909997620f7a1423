import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { launchBrowser, type TestBrowser } from '../../support/browser.js';
import { KeycloakAdmin, type KeycloakSession } from '../../support/keycloakAdmin.js';
import { e2eEnv, USERS, type E2eEnv } from './env.js';
import { startFrontend, type FrontendServer } from './frontend.js';
import { api, describeAnswer, isConnected, loginThroughApp, sessionCookie, waitForPageEvent } from './flows.js';
import { startReplicas, type Replicas } from './replicas.js';

/**
 * The whole scene for one test file: two app replicas (A takes logins and Keycloak's back-channel
 * POSTs, B serves the page's SSE stream), the frontend page's server, and one Chromium.
 */
export interface AppStack {
  env: E2eEnv;
  admin: KeycloakAdmin;
  replicas: Replicas;
  frontend: FrontendServer;
  browser: TestBrowser;
}

export function useAppStack(replicaSettings: Record<string, string> = {}): AppStack {
  const env = e2eEnv();
  const stack = { env, admin: new KeycloakAdmin(env.keycloak.admin) } as AppStack;
  beforeAll(async () => {
    stack.browser = await launchBrowser();
    stack.replicas = await startReplicas(env, replicaSettings);
    stack.frontend = await startFrontend(env.frontendUrl, env.replicaUrls[1]);
  }, 120_000);
  afterAll(async () => {
    await stack.browser?.close();
    await stack.frontend?.close();
    await stack.replicas?.stop();
  });
  return stack;
}

export interface SignedIn {
  context: BrowserContext;
  page: Page;
  /** `bff.sid=…`, as the browser holds it. */
  cookie: string;
  userId: string;
  keycloakSession: KeycloakSession;
}

/**
 * A person signing in on replica A in a fresh browser profile, ending on the frontend page with its
 * SSE stream (on replica B) open, and the session checked alive on both replicas.
 */
export async function signInOnApp(stack: AppStack, who: keyof typeof USERS): Promise<SignedIn> {
  const { env, admin } = stack;
  const person = USERS[who];
  const userId = (await admin.findUser(person.username)).id;
  const context = await stack.browser.newContext();
  const { page, keycloakSession } = await loginThroughApp(context, {
    appUrl: env.replicaUrls[0],
    frontendUrl: env.frontendUrl,
    username: person.username,
    password: person.password,
    admin,
    userId,
  });
  await waitForPageEvent(page, isConnected, 15_000, 'the unnamed "connected" message from replica B');
  const cookie = await sessionCookie(context, env.replicaUrls[0]);
  for (const url of env.replicaUrls) {
    const answer = await api(url, '/api/user', cookie);
    if (answer.status !== 200) throw new Error(`fresh session is not alive: ${describeAnswer('GET', `${url}/api/user`, answer)}`);
  }
  return { context, page, cookie, userId, keycloakSession };
}
