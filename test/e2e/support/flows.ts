import type { BrowserContext, Page } from 'playwright-core';
import type { KeycloakAdmin, KeycloakSession } from '../../support/keycloakAdmin.js';
import type { PageEvent } from './frontend.js';

/** What a person does on Keycloak's login page: type the username and the password, press "Sign In". */
export async function typeCredentials(page: Page, username: string, password: string): Promise<void> {
  const user = page.locator('#username');
  await user.waitFor({ state: 'visible', timeout: 30_000 });
  await user.pressSequentially(username, { delay: 10 });
  await page.locator('#password').pressSequentially(password, { delay: 10 });
  await page.locator('#kc-login').click();
}

/**
 * A full sign-in through the app: `GET replica/auth/login` → Keycloak's login form → the app's
 * callback → back on the frontend page, which then opens its SSE stream. Returns the Keycloak
 * session the login created (found as the one session id that was not there before).
 */
export async function loginThroughApp(
  context: BrowserContext,
  opts: { appUrl: string; frontendUrl: string; username: string; password: string; admin: KeycloakAdmin; userId: string },
): Promise<{ page: Page; keycloakSession: KeycloakSession }> {
  const before = new Set((await opts.admin.userSessions(opts.userId)).map((s) => s.id));
  const page = await context.newPage();
  await page.goto(`${opts.appUrl}/auth/login`);
  await typeCredentials(page, opts.username, opts.password);
  await page.waitForURL((url) => url.origin === new URL(opts.frontendUrl).origin, { timeout: 30_000 });
  const sessions = await opts.admin.waitForSessions(opts.userId, (list) => list.some((s) => !before.has(s.id)));
  const created = sessions.filter((s) => !before.has(s.id));
  if (created.length !== 1) throw new Error(`expected one new Keycloak session, found ${created.length}`);
  return { page, keycloakSession: created[0]! };
}

export async function pageEvents(page: Page): Promise<PageEvent[]> {
  return page.evaluate(() => (globalThis as unknown as { __events?: PageEvent[] }).__events ?? []);
}

/** Waits for the page's own record of an event (as the browser's EventSource delivered it). */
export async function waitForPageEvent(
  page: Page,
  match: (event: PageEvent) => boolean,
  timeoutMs: number,
  what: string,
): Promise<PageEvent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = await pageEvents(page);
    const found = events.find(match);
    if (found) return found;
    if (Date.now() > deadline) {
      throw new Error(`page never received ${what} within ${timeoutMs} ms; it recorded: ${JSON.stringify(events)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const isConnected = (e: PageEvent) => e.kind === 'message' && e.data === 'connected';
export const isInvalidated = (e: PageEvent) => e.kind === 'session_invalidated';

/** The `bff.sid` cookie as a `Cookie` header value (cookies are per host, so A's cookie is B's too). */
export async function sessionCookie(context: BrowserContext, appUrl: string): Promise<string> {
  const cookie = (await context.cookies(appUrl)).find((c) => c.name === 'bff.sid');
  if (!cookie) throw new Error(`no bff.sid cookie for ${appUrl} in this browser context`);
  return `${cookie.name}=${cookie.value}`;
}

export interface ApiAnswer {
  status: number;
  body: { error?: string; [key: string]: unknown } | string;
}

/** A request with the browser's cookie but from the test, so the answer can be reported exactly. */
export async function api(appUrl: string, path: string, cookie: string): Promise<ApiAnswer> {
  const response = await fetch(`${appUrl}${path}`, { headers: { cookie, accept: 'application/json' } });
  const text = await response.text();
  let body: ApiAnswer['body'] = text;
  try {
    body = JSON.parse(text) as ApiAnswer['body'];
  } catch {
    // not JSON: keep the text for the failure message
  }
  return { status: response.status, body };
}

export function describeAnswer(method: string, url: string, answer: ApiAnswer): string {
  return `${method} ${url} → ${answer.status} ${typeof answer.body === 'string' ? answer.body.slice(0, 200) : JSON.stringify(answer.body)}`;
}

/** Polls until every listed replica answers `path` with 401 `session_revoked` for the cookie. */
export async function waitUntilRevoked(appUrls: string[], cookie: string, timeoutMs: number): Promise<ApiAnswer[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answers = await Promise.all(appUrls.map((url) => api(url, '/api/user', cookie)));
    const revoked = answers.every((a) => a.status === 401 && typeof a.body === 'object' && a.body.error === 'session_revoked');
    if (revoked) return answers;
    if (Date.now() > deadline) {
      throw new Error(
        `cookie not revoked on every replica within ${timeoutMs} ms: ` +
          answers.map((a, i) => describeAnswer('GET', `${appUrls[i]}/api/user`, a)).join('; '),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export function logTiming(label: string, ms: number): void {
  console.log(`[e2e timing] ${label}: ${ms} ms`);
}
