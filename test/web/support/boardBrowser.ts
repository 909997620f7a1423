import type { BrowserContext, Page } from 'playwright-core';
import { LOGIN_AS_COOKIE, type AccountId } from '../../../dev/oidcProvider.js';
import type { World } from '../../support/world.js';

/** Open event streams across every replica of the world, as the servers count them. */
export function openStreams(world: World): number {
  return world.apps.reduce((sum, app) => sum + app.services.sse.size, 0);
}

/** Makes the in-process provider sign `context` in as `account` at its next sign-in (no login form). */
export async function loginAs(context: BrowserContext, world: World, account: AccountId): Promise<void> {
  await context.addCookies([{ name: LOGIN_AS_COOKIE, value: account, url: world.op.issuer }]);
}

/** Signs `context` in as `account` through the real code flow in the app; returns the board tab. */
export async function signInTab(context: BrowserContext, world: World, account: AccountId): Promise<Page> {
  await loginAs(context, world, account);
  const page = await context.newPage();
  await page.goto(`${world.baseUrl}/`);
  await page.getByRole('main').getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('user-name').waitFor();
  await waitLive(page);
  return page;
}

/** Another tab of an already signed-in context, live on the stream. */
export async function openTab(context: BrowserContext, world: World, path = '/'): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${world.baseUrl}${path}`);
  await waitLive(page);
  return page;
}

export async function waitLive(page: Page, timeout = 10_000): Promise<void> {
  await page.locator('[data-testid="connection"][data-state="live"]').waitFor({ timeout });
}

/** A JSON call from inside the page (its cookies, its origin), as the app itself would make it. */
export function callApi(page: Page, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  return page.evaluate(
    async ({ method, path, body }) => {
      const response = await fetch(path, {
        method,
        credentials: 'include',
        headers: { Accept: 'application/json', ...(method === 'GET' ? {} : { 'X-CSRF': '1', 'Content-Type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null };
    },
    { method, path, body },
  );
}

/** Polls `read` until it returns `expected` (server-side counts settle a moment after the browser acts). */
export async function eventually<T>(read: () => T | Promise<T>, expected: T, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await read();
  while (last !== expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    last = await read();
  }
  if (last !== expected) throw new Error(`expected ${String(expected)}, still ${String(last)} after ${timeoutMs} ms`);
}
