import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { startWorld, type World } from '../support/world.js';
import { callApi, signInTab } from './support/boardBrowser.js';

/**
 * The demo provider's admin page signs people out the way Keycloak's console does, and the board
 * tabs react: a logout token per session for one session or one user, none for "everyone".
 */
describe('forced sign-out from the provider’s admin page', () => {
  let world: World;
  let browser: TestBrowser;
  let adminPage: Page;

  beforeAll(async () => {
    // A short liveness interval: "everyone" sends no logout token, only the liveness check notices.
    [world, browser] = await Promise.all([startWorld({ env: { LIVENESS_INTERVAL_SECONDS: '2' } }), launchBrowser()]);
    adminPage = await (await browser.newContext()).newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await world?.close();
  });

  /** The provider's own session id for a browser context (its `_session` cookie), as the admin page lists it. */
  const providerSessionOf = async (context: BrowserContext) => {
    const cookie = (await context.cookies(world.op.issuer)).find((c) => c.name === '_session');
    if (!cookie) throw new Error('no provider session cookie');
    return cookie.value;
  };
  /** Presses an admin button; resolves with the moment of the press, once the POST has answered. */
  const adminClick = async (formAction: string) => {
    await adminPage.goto(`${world.op.issuer}/admin`);
    const pressed = Date.now();
    await adminPage.locator(`form[action="${formAction}"] button`).click();
    await adminPage.getByRole('status').waitFor(); // the POST answered: the logout tokens were delivered
    return pressed;
  };
  const expectNotice = async (page: Page, reason: string, timeout: number) => {
    const notice = page.getByTestId('signed-out');
    await notice.waitFor({ timeout });
    expect(await notice.getAttribute('data-reason')).toBe(reason);
    expect((await callApi(page, 'GET', '/api/user')).body).toMatchObject({ error: 'session_revoked' });
    return notice.innerText();
  };
  const expectSignedIn = async (page: Page) => {
    expect(await page.getByTestId('signed-out').count()).toBe(0);
    expect((await callApi(page, 'GET', '/api/user')).status).toBe(200);
  };

  it('"Sign out this session": that tab shows the notice within 1 s naming an administrator; her other device stays signed in', async () => {
    const [desk, laptop] = [await browser.newContext(), await browser.newContext()];
    const deskPage = await signInTab(desk, world, 'alice');
    const laptopPage = await signInTab(laptop, world, 'alice');

    const pressed = await adminClick(`/admin/sessions/${encodeURIComponent(await providerSessionOf(desk))}`);
    await deskPage.getByTestId('signed-out').waitFor({ timeout: 1000 });
    console.info(`admin button pressed → notice on alice's screen: ${Date.now() - pressed} ms`);
    const text = await expectNotice(deskPage, 'backchannel_logout', 1000);
    expect(text).toContain('An administrator signed you out');
    expect(text).toContain('Sign in again');
    await expectSignedIn(laptopPage);
  });

  it('"Sign out all of this user’s sessions": every device of that user shows the notice; others are untouched', async () => {
    const [one, two, other] = [await browser.newContext(), await browser.newContext(), await browser.newContext()];
    const onePage = await signInTab(one, world, 'alice');
    const twoPage = await signInTab(two, world, 'alice');
    const bobPage = await signInTab(other, world, 'bob');

    await adminClick('/admin/accounts/alice');
    // The 1-s promise is measured above; here the point is who is signed out (a generous bound).
    await expectNotice(onePage, 'backchannel_logout', 5000);
    await expectNotice(twoPage, 'backchannel_logout', 5000);
    await expectSignedIn(bobPage);
  });

  it('"Sign out everyone": no logout token, and the liveness check ends every tab’s session', async () => {
    const carol = await browser.newContext();
    const carolPage = await signInTab(carol, world, 'carol');
    await adminClick('/admin/everyone');
    await expectNotice(carolPage, 'provider_session_ended', 15_000);
  });

  it('"Sign in again" after the notice leads back to a working board', async () => {
    const context = await browser.newContext();
    const page = await signInTab(context, world, 'bob');
    await adminClick(`/admin/sessions/${encodeURIComponent(await providerSessionOf(context))}`);
    await page.getByTestId('signed-out').waitFor({ timeout: 2000 });
    await page.getByRole('button', { name: 'Sign in again' }).click();
    await page.getByTestId('user-name').waitFor();
    await expectSignedIn(page);
  });
});
